"""Tolaria's epoch loop: host + seed optimisation, validation, counterfactual, metric recording."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from tests.tolaria.lifecycle import digits_model, germinate_at, perturb_seed
from esper.data import TaskData
from esper.kasmina.host import MorphogeneticModel
from esper.leyline import SeedStage
from esper.tolaria import (
    EpochTrainer,
    TrainerConfig,
    counterfactual_contributions,
    record_epoch_metrics,
    train_epoch,
    validate,
)


def _small(data: TaskData, n: int = 256) -> TaskData:
    """The first ``n`` training samples (keeps the tests fast)."""
    from esper.data.splits import SplitTensors

    s = data.splits
    return TaskData(spec=data.spec, splits=SplitTensors(s.train_x[:n], s.train_y[:n], s.val_x, s.val_y))


def _clone_params(params: list[torch.nn.Parameter]) -> list[torch.Tensor]:
    return [p.detach().clone() for p in params]


def _changed(before: list[torch.Tensor], params: list[torch.nn.Parameter]) -> bool:
    return all(not torch.equal(b, p) for b, p in zip(before, params, strict=True) if p.requires_grad)


@pytest.mark.req("SYS.1.4", "DEC.tolaria_data.6")
def test_train_epoch_steps_host_and_live_seed_optimisers() -> None:
    model, data = digits_model()
    data = _small(data)
    slot = germinate_at(model, "r0c1", "conv_light", SeedStage.TRAINING)
    trainer = EpochTrainer(model, TrainerConfig(host_lr=0.05, seed_lr=0.02, batch_size=64))
    host_before = _clone_params(model.host_parameters())
    seed_before = _clone_params(slot.seed_parameters())
    stats = trainer.train_epoch(data)
    assert set(trainer.seed_optimizers) == {"r0c1"}
    entry = trainer.seed_optimizers["r0c1"]
    # Seeds use Adam whatever the host's kind (DEC.seedhealth.1).
    assert entry.optimizer.param_groups[0]["lr"] == 0.02 and isinstance(entry.optimizer, torch.optim.Adam)
    assert _changed(host_before, model.host_parameters())
    assert _changed(seed_before, slot.seed_parameters())
    assert set(stats.seed_grad_norm_ratios) == {"r0c1"} and stats.seed_grad_norm_ratios["r0c1"] > 0.0
    assert 0.0 <= stats.train_accuracy <= 100.0 and stats.train_loss > 0.0


@pytest.mark.req("SYS.1.4", "DEC.tolaria_data.6")
def test_seed_optimisers_follow_the_lifecycle() -> None:
    model, data = digits_model()
    data = _small(data, 128)
    trainer = EpochTrainer(model, TrainerConfig(batch_size=64))
    trainer.train_epoch(data)
    assert trainer.seed_optimizers == {}
    germinate_at(model, "r0c0", "conv_light", SeedStage.TRAINING)
    trainer.train_epoch(data)
    first = trainer.seed_optimizers["r0c0"]
    model.cull_seed("r0c0", reason="test")
    trainer.train_epoch(data)
    assert "r0c0" not in trainer.seed_optimizers  # culled: optimiser dropped
    fossil = germinate_at(model, "r0c2", "norm", SeedStage.FOSSILIZED)
    trainer.train_epoch(data)
    assert "r0c2" not in trainer.seed_optimizers
    in_host = {id(p) for g in trainer.host_optimizer.param_groups for p in g["params"]}
    assert all(id(p) in in_host for p in fossil.seed_parameters())
    assert len(trainer.host_optimizer.param_groups) == 2
    trainer.train_epoch(data)
    assert len(trainer.host_optimizer.param_groups) == 2  # added once
    before = _clone_params(fossil.seed_parameters())
    trainer.train_epoch(data)
    assert any(not torch.equal(b, p) for b, p in zip(before, fossil.seed_parameters(), strict=True))
    assert first.seed_id == "r0c0-seed1"


@pytest.mark.req("DEC.tolaria_data.7")
def test_grad_norm_ratio_matches_manual_full_batch_computation() -> None:
    model, data = digits_model()
    data = _small(data, 200)
    slot = germinate_at(model, "r0c1", "conv_light", SeedStage.BLENDING)
    perturb_seed(slot, scale=0.1)
    reference = copy.deepcopy(model)
    reference.train()
    loss = F.cross_entropy(reference(data.train_x), data.train_y)
    torch.autograd.backward(loss)
    host_norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in reference.host_parameters() if p.grad is not None]))
    ref_slot = reference.resolve_slot("r0c1")
    seed_norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in ref_slot.seed_parameters() if p.grad is not None]))
    trainer = EpochTrainer(model, TrainerConfig(batch_size=len(data.train_y)))
    stats = trainer.train_epoch(data)
    assert stats.seed_grad_norm_ratios["r0c1"] == pytest.approx((seed_norm / host_norm).item(), rel=1e-4)
    assert stats.train_loss == pytest.approx(loss.item(), rel=1e-5)


def _manual_accuracy(model: MorphogeneticModel, data: TaskData, skip: str | None) -> float:
    """Accuracy of the model computed by hand, bypassing slot ``skip`` entirely."""
    model.eval()
    with torch.no_grad():
        h = model.host.embed(data.val_x)
        for slot_id, segment in zip(model.slot_ids, model.host.segments, strict=True):
            h = segment(h)
            if slot_id != skip:
                h = model.slots[slot_id](h)
        logits = model.host.head(h)
    model.train()
    return 100.0 * int((logits.argmax(dim=1) == data.val_y).sum()) / len(data.val_y)


@pytest.mark.req("SYS.1.5")
def test_validate_matches_manual_and_restores_mode() -> None:
    model, data = digits_model()
    EpochTrainer(model).train_epoch(_small(data))
    model.train()
    loss, acc = validate(model, data)
    assert model.training
    assert acc == pytest.approx(_manual_accuracy(model, data, skip=None), abs=1e-9)
    model.eval()
    with torch.no_grad():
        manual_loss = F.cross_entropy(model(data.val_x), data.val_y).item()
    assert loss == pytest.approx(manual_loss, rel=1e-5)
    validate(model, data)
    assert not model.training  # eval mode is restored too


@pytest.mark.req("SYS.1.5")
def test_counterfactual_zero_without_effect_and_manual_with_effect() -> None:
    model, data = digits_model()
    EpochTrainer(model).train_epoch(_small(data))
    germinate_at(model, "r0c0", "noop", SeedStage.BLENDING)  # identity seed: no effect
    effective = germinate_at(model, "r0c1", "conv_light", SeedStage.PROBATIONARY)
    perturb_seed(effective, scale=0.3)
    germinate_at(model, "r0c2", "conv_light", SeedStage.TRAINING)  # not blended: no counterfactual
    contributions = counterfactual_contributions(model, data)
    assert set(contributions) == {"r0c0", "r0c1"}
    assert contributions["r0c0"] == 0.0
    with_all = _manual_accuracy(model, data, skip=None)
    without = _manual_accuracy(model, data, skip="r0c1")
    assert with_all != without  # the perturbed seed really changes predictions
    assert contributions["r0c1"] == pytest.approx(with_all - without, abs=1e-9)
    assert effective.alpha == 1.0  # forcing alpha to zero was temporary
    assert counterfactual_contributions(model, data, val_accuracy=50.0)["r0c0"] == pytest.approx(50.0 - with_all)


@pytest.mark.req("SYS.1.6")
def test_record_epoch_metrics_and_run_epoch() -> None:
    model, data = digits_model()
    data = _small(data)
    blending = germinate_at(model, "r0c0", "conv_light", SeedStage.BLENDING)
    training = germinate_at(model, "r0c1", "conv_light", SeedStage.TRAINING)
    record_epoch_metrics(model, 61.5, {"r0c0": 2.5}, {"r0c0": 0.3, "r0c1": 0.7})
    assert blending.state is not None and training.state is not None
    assert blending.state.metrics.current_val_accuracy == 61.5 == training.state.metrics.current_val_accuracy
    assert blending.state.metrics.counterfactual_contribution == 2.5
    assert training.state.metrics.counterfactual_contribution is None
    assert (blending.state.metrics.seed_gradient_norm_ratio, training.state.metrics.seed_gradient_norm_ratio) == (0.3, 0.7)
    with pytest.raises(ValueError, match=r"unknown slots \['r9'\]; valid: \['r0c0', 'r0c1', 'r0c2'\]"):
        record_epoch_metrics(model, 50.0, {"r9": 1.0})
    result = EpochTrainer(model, TrainerConfig(batch_size=128)).run_epoch(data)
    assert set(result.contributions) == {"r0c0"}
    assert blending.state.metrics.current_val_accuracy == pytest.approx(result.val_accuracy)
    assert blending.state.metrics.counterfactual_contribution == pytest.approx(result.contributions["r0c0"])
    assert training.state.metrics.seed_gradient_norm_ratio == pytest.approx(result.train.seed_grad_norm_ratios["r0c1"])


@pytest.mark.req("SYS.1.4")
def test_train_epoch_function_rejects_unknown_slots() -> None:
    model, data = digits_model()
    opt = torch.optim.SGD(model.host_parameters(), lr=0.1)
    with pytest.raises(ValueError, match="seed_optimizers names unknown slots"):
        train_epoch(model, data, opt, {"nope": opt}, batch_size=64)


@pytest.mark.req("DEC.tolaria_data.7")
def test_one_host_read_per_training_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Device-to-host reads (item, tolist, bool/int/float of a tensor, cpu, numpy) are counted during an epoch."""
    model, data = digits_model()
    data = _small(data, 256)
    germinate_at(model, "r0c0", "conv_light", SeedStage.BLENDING)
    germinate_at(model, "r0c2", "norm", SeedStage.TRAINING)
    trainer = EpochTrainer(model, TrainerConfig(batch_size=32))
    trainer.sync_optimizers()
    calls: dict[str, int] = {}
    for name in ("item", "tolist", "__bool__", "__int__", "__float__", "cpu", "numpy"):
        original = getattr(torch.Tensor, name)

        def counted(
            self: torch.Tensor, *args: object, _name: str = name, _orig: Callable[..., object] = original
        ) -> object:
            calls[_name] = calls.get(_name, 0) + 1
            return _orig(self, *args)

        monkeypatch.setattr(torch.Tensor, name, counted)
    stats = trainer.train_epoch(data)
    monkeypatch.undo()
    assert calls == {"tolist": 1}, calls  # 8 minibatches, one read at the end
    assert set(stats.seed_grad_norm_ratios) == {"r0c0", "r0c2"}


@pytest.mark.cuda
@pytest.mark.req("SYS.1.4", "SYS.5.5.3")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_epoch_and_rollback_on_cuda() -> None:
    from esper.data import build_model, load_task
    from esper.tolaria import TolariaGovernor

    data = load_task("digits", device="cuda")
    torch.manual_seed(0)
    model = build_model(data, device="cuda")
    germinate_at(model, "r0c1", "conv_light", SeedStage.BLENDING)
    trainer = EpochTrainer(model, TrainerConfig(batch_size=128))
    gov = TolariaGovernor(model, trainer.host_optimizer)
    result = trainer.run_epoch(data)
    assert set(result.contributions) == {"r0c1"} and 0.0 <= result.val_accuracy <= 100.0
    gov.snapshot()
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    trainer.train_epoch(data)
    report = gov.rollback()
    assert report.culled_slots == ("r0c1",)
    for name, tensor in model.state_dict().items():
        assert tensor.device.type == "cuda" and torch.equal(tensor, saved[name]), name


@pytest.mark.req("DEC.tolaria_data.6")
def test_a_reused_seed_id_still_gets_a_fresh_optimiser() -> None:
    model, data = digits_model()
    data = _small(data, 64)
    trainer = EpochTrainer(model, TrainerConfig(batch_size=64))
    model.germinate_seed("conv_light", seed_id="same", slot="r0c0")
    trainer.train_epoch(data)
    first = trainer.seed_optimizers["r0c0"].optimizer
    slot = model.resolve_slot("r0c0")
    slot.cull("test")
    while slot.state is not None:  # cooldown until the slot is free
        slot.step_epoch()
    model.germinate_seed("conv_light", seed_id="same", slot="r0c0")
    trainer.train_epoch(data)
    entry = trainer.seed_optimizers["r0c0"]
    assert entry.optimizer is not first
    assert all(a is b for a, b in zip(entry.params, slot.seed_parameters(), strict=True))
