"""Plan Task 7 and design §3: the ramp lasts exactly the stored tempo and ends at alpha 1.0 exactly."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings, strategies as st

from tests.kasmina.helpers import drive_to, make_slot
from esper.kasmina import SeedSlot, SeedStage, TaskConfig
from esper.kasmina.blending import alpha_at_step, check_blend_algorithm, gated_weight, ramp_alpha
from esper.leyline import BLEND_ALGORITHM_IDS, TEMPO_TO_EPOCHS
from esper.leyline.defaults import DEFAULT_BLENDING_TOTAL_STEPS

ALGORITHMS = list(BLEND_ALGORITHM_IDS)


def _blend_trace(slot: SeedSlot) -> tuple[int, list[float]]:
    """step_epoch until the seed leaves BLENDING; returns (calls, alpha after each call)."""
    alphas: list[float] = []
    calls = 0
    while slot.stage == SeedStage.BLENDING:
        assert slot.state is not None
        slot.state.metrics.record_counterfactual(2.0)
        slot.step_epoch()
        calls += 1
        alphas.append(slot.alpha)
        assert calls <= 20
    return calls, alphas


@pytest.mark.req("T07.1", "CHK.07.1", "SYS.3.8", "DEC.kasmina.1")
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("tempo", sorted(TEMPO_TO_EPOCHS.values()))
def test_blending_takes_exactly_tempo_epochs(tempo: int, algorithm: str) -> None:
    slot = make_slot("norm", algorithm=algorithm, tempo=tempo, stage=SeedStage.BLENDING)
    assert slot.state is not None
    assert slot.state.blending_steps_total == tempo
    assert slot.state.blending_steps_done == 0 and slot.alpha == 0.0
    calls, alphas = _blend_trace(slot)
    assert calls == tempo
    assert slot.stage == SeedStage.PROBATIONARY
    assert alphas[-1] == 1.0 and slot.state.alpha == 1.0 and slot.state.metrics.current_alpha == 1.0
    assert all(a <= b for a, b in zip([0.0, *alphas], alphas))
    assert all(0.0 < a < 1.0 for a in alphas[:-1])
    expected = [alpha_at_step(algorithm, k, tempo) for k in range(1, tempo + 1)]
    assert alphas == expected
    assert slot.state.blending_steps_done == tempo
    assert slot.gate_results["G3"].passed


@pytest.mark.req("DEC.kasmina.2", "SYS.3.8")
@pytest.mark.parametrize("tempo", [1, 2])
def test_short_tempo_dwells_until_g3(tempo: int) -> None:
    slot = make_slot("norm", tempo=tempo, stage=SeedStage.BLENDING)
    calls, alphas = _blend_trace(slot)
    assert calls == 3
    assert alphas[tempo - 1:] == [1.0] * (3 - tempo + 1)
    g3 = slot.gate_results["G3"]
    assert g3.passed
    assert slot.state is not None and slot.state.blending_steps_done == tempo


@pytest.mark.req("T07.1")
def test_ramp_length_priority() -> None:
    # stored tempo wins over the task config
    slot = SeedSlot("s", 8, task_config=TaskConfig(blending_steps=7))
    slot.germinate("norm", blend_tempo_epochs=3)
    drive_to(slot, SeedStage.BLENDING)
    assert slot.state is not None and slot.state.blending_steps_total == 3
    # without a stored tempo: TaskConfig.blending_steps, then the default
    for config, expected in ((TaskConfig(blending_steps=7), 7), (None, DEFAULT_BLENDING_TOTAL_STEPS)):
        slot = SeedSlot("s", 8, task_config=config)
        slot.germinate("norm", blend_tempo_epochs=3)
        drive_to(slot, SeedStage.TRAINING)
        slot._blend_tempo_epochs = None
        drive_to(slot, SeedStage.BLENDING)
        assert slot.state is not None and slot.state.blending_steps_total == expected


@pytest.mark.req("T07.3")
def test_accuracy_snapshot_at_blending_start() -> None:
    slot = make_slot("norm", stage=SeedStage.TRAINING)
    assert slot.state is not None
    m = slot.state.metrics
    assert not m.blending_started
    for acc in (60.0, 61.0, 62.5):
        m.record_accuracy(acc)
        m.seed_gradient_norm_ratio = 1.0
        slot.step_epoch()
    assert slot.stage == SeedStage.BLENDING
    assert m.accuracy_at_blending_start == 62.5 and m.blending_started
    m.record_accuracy(70.0)
    slot.step_epoch()
    assert m.accuracy_at_blending_start == 62.5


@pytest.mark.req("SYS.3.5")
@settings(max_examples=40, deadline=None)
@given(algorithm=st.sampled_from(ALGORITHMS), p=st.floats(0.0, 1.0), q=st.floats(0.0, 1.0))
def test_ramp_functions_are_monotone_with_exact_ends(algorithm: str, p: float, q: float) -> None:
    assert ramp_alpha(algorithm, 0.0) == 0.0
    assert ramp_alpha(algorithm, 1.0) == 1.0
    lo, hi = min(p, q), max(p, q)
    assert 0.0 <= ramp_alpha(algorithm, lo) <= ramp_alpha(algorithm, hi) <= 1.0


@pytest.mark.req("SYS.3.5", "DEC.kasmina.8")
@settings(max_examples=40, deadline=None)
@given(a=st.floats(0.0, 1.0), g=st.floats(0.0, 1.0))
def test_gated_weight_bounds(a: float, g: float) -> None:
    w = gated_weight(torch.tensor(a, dtype=torch.float64), torch.tensor(g, dtype=torch.float64)).item()
    assert a * a - 1e-12 <= w <= a * (2 - a) + 1e-12
    assert gated_weight(torch.tensor(0.0), torch.tensor(g)).item() == 0.0
    assert gated_weight(torch.tensor(1.0), torch.tensor(g)).item() == 1.0


@pytest.mark.req("SYS.3.5", "DEC.kasmina.8")
@pytest.mark.parametrize("topology, shape, gate_shape", [("cnn", (3, 8, 4, 4), (3, 1, 1, 1)),
                                                         ("transformer", (3, 5, 8), (3, 5, 1))])
def test_gate_shape_and_init(topology: str, shape: tuple[int, ...], gate_shape: tuple[int, ...]) -> None:
    slot = make_slot("norm", topology=topology, algorithm="gated", stage=SeedStage.GERMINATED)
    assert slot.blend_gate is not None
    g = slot.blend_gate(torch.randn(shape))
    assert tuple(g.shape) == gate_shape and torch.all(g == 0.5)
    gate_params = {id(p) for p in slot.blend_gate.parameters()}
    assert gate_params <= {id(p) for p in slot.seed_parameters()}


@pytest.mark.req("SYS.3.5")
def test_unknown_algorithm_lists_valid() -> None:
    with pytest.raises(ValueError, match=r"linear.*sigmoid.*gated"):
        check_blend_algorithm("cosine")
    with pytest.raises(ValueError, match="blend_algorithm_id"):
        SeedSlot("s", 8).germinate("norm", blend_algorithm_id="cosine")


@pytest.mark.req("DEC.kasmina.11")
@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.8])
def test_ramp_formulas(p: float) -> None:
    import math

    def sig(x: float) -> float:
        return 1.0 / (1.0 + math.exp(-x))

    assert ramp_alpha("linear", p) == p
    assert ramp_alpha("gated", p) == p
    expected = (sig(12.0 * (p - 0.5)) - sig(-6.0)) / (sig(6.0) - sig(-6.0))
    assert ramp_alpha("sigmoid", p) == pytest.approx(expected, rel=1e-12)
    assert alpha_at_step("sigmoid", 3, 8) == pytest.approx((sig(12.0 * (3 / 8 - 0.5)) - sig(-6.0)) / (sig(6.0) - sig(-6.0)))
