"""Tolaria governor: detection (NaN, inf, spike), exact rollback, seed culls, penalty and telemetry."""

from __future__ import annotations

import math
import statistics

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tolaria.lifecycle import digits_model, germinate_at
from esper.data import TaskData
from esper.data.splits import SplitTensors
from esper.kasmina.host import MorphogeneticModel
from esper.leyline import SeedStage, TelemetryEvent, TelemetryEventType
from esper.leyline.defaults import GOVERNOR_PENALTY
from esper.tolaria import EpochTrainer, TolariaGovernor, TrainerConfig
from esper.tolaria.governor import GOVERNOR_MIN_SPIKE_DELTA


def _tiny(data: TaskData, n: int = 128) -> TaskData:
    s = data.splits
    return TaskData(spec=data.spec, splits=SplitTensors(s.train_x[:n], s.train_y[:n], s.val_x[:64], s.val_y[:64]))


def _governor() -> TolariaGovernor:
    model, _ = digits_model()
    return TolariaGovernor(model, torch.optim.SGD(model.host_parameters(), lr=0.1))


@pytest.mark.req("SYS.5.5.1")
@pytest.mark.parametrize(("loss", "reason"), [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "inf")])
def test_nan_and_inf_are_unhealthy_even_without_history(loss: float, reason: str) -> None:
    gov = _governor()
    verdict = gov.check(loss)
    assert (verdict.healthy, verdict.reason) == (False, reason)
    for value in (1.0, 1.1, 0.9):
        assert gov.check(value).healthy
    assert gov.check(loss).reason == reason
    assert list(gov.history) == [1.0, 1.1, 0.9]  # unhealthy losses never enter the history


@pytest.mark.req("SYS.5.5.2", "DEC.tolaria_data.8")
def test_spike_detection_thresholds() -> None:
    gov = _governor()
    assert gov.check(1.0).healthy and gov.check(1.0).healthy
    assert gov.check(100.0).healthy  # only 2 healthy losses so far: spikes are not judged yet
    gov.history.clear()
    for value in (1.0, 1.0, 1.0):
        gov.check(value)
    assert gov.spike_threshold() == 3.0
    spike = gov.check(3.01)
    assert (spike.healthy, spike.reason, spike.threshold) == (False, "spike", 3.0)
    assert gov.check(2.99).healthy
    converged = _governor()
    for value in (0.02, 0.02, 0.02):
        converged.check(value)
    assert converged.check(0.07).healthy  # 3.5x the median, but within the absolute margin
    assert not converged.check(0.02 + GOVERNOR_MIN_SPIKE_DELTA + 0.01).healthy


@pytest.mark.req("SYS.5.5.2", "DEC.tolaria_data.8")
@settings(max_examples=40, deadline=None)
@given(
    history=st.lists(st.floats(0.001, 10.0), min_size=3, max_size=15),
    loss=st.floats(0.0, 200.0),
)
def test_spike_rule_property(history: list[float], loss: float) -> None:
    gov = _governor_cached()
    gov.history.clear()
    for value in history:
        gov.history.append(value)
    recent = list(gov.history)  # the last `history` (10) healthy losses
    median = statistics.median(recent)
    expected_spike = loss > max(3.0 * median, median + GOVERNOR_MIN_SPIKE_DELTA)
    verdict = gov.check(loss)
    assert verdict.healthy is not expected_spike
    assert verdict.reason == ("spike" if expected_spike else "ok")


_CACHE: list[TolariaGovernor] = []


def _governor_cached() -> TolariaGovernor:
    if not _CACHE:
        _CACHE.append(_governor())
    return _CACHE[0]


def _state(model: MorphogeneticModel) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _optimizer_tensors(opt: torch.optim.Optimizer) -> list[tuple[int, str, torch.Tensor]]:
    sd = opt.state_dict()
    return [(i, k, v.clone() if isinstance(v, torch.Tensor) else torch.tensor(v))
            for i, st_ in sorted(sd["state"].items()) for k, v in sorted(st_.items())]


@pytest.mark.req("SYS.5.5.3", "DEC.tolaria_data.9")
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_rollback_restores_weights_and_optimizer_state_bit_exactly(kind: str) -> None:
    model, data = digits_model()
    data = _tiny(data)
    trainer = EpochTrainer(model, TrainerConfig(optimizer=kind, host_lr=0.01, batch_size=32))
    gov = TolariaGovernor(model, trainer.host_optimizer)
    trainer.train_epoch(data)
    gov.snapshot()
    saved_weights = _state(model)
    saved_opt = _optimizer_tensors(trainer.host_optimizer)
    params_before = list(model.host_parameters())
    trainer.train_epoch(data)
    with torch.no_grad():
        next(iter(model.host_parameters())).fill_(math.nan)
    assert not all(torch.equal(saved_weights[k], v) for k, v in model.state_dict().items())
    assert gov.check(math.nan).reason == "nan"
    gov.rollback()
    restored = model.state_dict()
    assert restored.keys() == saved_weights.keys()
    for name, tensor in saved_weights.items():
        assert torch.equal(restored[name], tensor), name
    after = _optimizer_tensors(trainer.host_optimizer)
    assert len(after) == len(saved_opt) > 0
    for (i, k, a), (j, m, b) in zip(after, saved_opt, strict=True):
        assert (i, k) == (j, m) and torch.equal(a, b), (i, k)
    assert all(p is q for p, q in zip(params_before, model.host_parameters(), strict=True))  # in place
    stats = trainer.train_epoch(data)  # training goes on from the restored state
    assert math.isfinite(stats.train_loss)


@pytest.mark.req("SYS.5.5.4", "SYS.5.5.5")
def test_rollback_culls_live_seeds_keeps_fossils_reports_penalty_and_emits() -> None:
    model, data = digits_model()
    data = _tiny(data)
    events: list[TelemetryEvent] = []
    trainer = EpochTrainer(model, TrainerConfig(batch_size=64))
    fossil = germinate_at(model, "r0c0", "norm", SeedStage.FOSSILIZED)
    trainer.train_epoch(data)
    gov = TolariaGovernor(model, trainer.host_optimizer, on_event=events.append)
    young = germinate_at(model, "r0c1", "conv_light", SeedStage.TRAINING)  # age 1, still culled
    blending = germinate_at(model, "r0c2", "conv_light", SeedStage.BLENDING)
    trainer.train_epoch(data)
    assert young.state is not None and blending.state is not None
    seeds = (young.state.seed_id, blending.state.seed_id)
    for value in (1.0, 1.0, 1.0):
        assert gov.observe(value) is None
    report = gov.observe(50.0)
    assert report is not None
    assert (report.reason, report.loss, report.penalty, report.rollback_count) == ("spike", 50.0, GOVERNOR_PENALTY, 1)
    assert report.culled_slots == ("r0c1", "r0c2") and report.culled_seeds == seeds
    for slot in (young, blending):
        assert slot.state is not None and slot.state.stage == SeedStage.CULLED and slot.state.cull_reason == "governor"
    assert fossil.stage == SeedStage.FOSSILIZED
    rollbacks = [e for e in events if e.event_type == TelemetryEventType.GOVERNOR_ROLLBACK]
    assert len(rollbacks) == 1
    assert rollbacks[0].data["penalty"] == GOVERNOR_PENALTY and rollbacks[0].data["culled_slots"] == "r0c1,r0c2"
    trainer.train_epoch(data)
    assert trainer.seed_optimizers == {}


@pytest.mark.req("SYS.5.5.3", "DEC.tolaria_data.9")
def test_rollback_after_a_fossilization_that_followed_the_snapshot() -> None:
    model, data = digits_model()
    data = _tiny(data)
    trainer = EpochTrainer(model, TrainerConfig(optimizer="adam", host_lr=0.001, batch_size=64))
    slot = germinate_at(model, "r0c1", "conv_light", SeedStage.PROBATIONARY)
    trainer.train_epoch(data)
    gov = TolariaGovernor(model, trainer.host_optimizer)
    saved = _state(model)
    assert slot.state is not None
    slot.state.metrics.record_counterfactual(3.0)
    assert slot.fossilize().passed
    trainer.train_epoch(data)  # the fossil joins the host optimiser as a new group
    assert len(trainer.host_optimizer.param_groups) == 2
    report = gov.rollback()
    assert report.culled_slots == () and report.reason == "manual"
    assert len(trainer.host_optimizer.param_groups) == 2
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, saved[name]), name
    trainer.train_epoch(data)


@pytest.mark.req("SYS.5.5.5")
def test_constructor_validates_arguments() -> None:
    model, _ = digits_model()
    opt = torch.optim.SGD(model.host_parameters(), lr=0.1)
    with pytest.raises(ValueError, match="history must be an int >= 3"):
        TolariaGovernor(model, opt, history=2)
    with pytest.raises(ValueError, match="spike_factor"):
        TolariaGovernor(model, opt, spike_factor=1.0)
    with pytest.raises(ValueError, match="penalty"):
        TolariaGovernor(model, opt, penalty=1.0)
    assert TolariaGovernor(model, opt).penalty == GOVERNOR_PENALTY
