"""Shared fixtures of the seed-health tests (issue 9): small task subsets, pretrained hosts, residual probes."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from esper.data import build_model, load_task
from esper.data.splits import SplitTensors
from esper.data.task import TaskData
from esper.kasmina.host import MorphogeneticModel, TransformerHost
from esper.kasmina.slot import SeedSlot
from esper.kasmina.task_config import TaskConfig
from esper.leyline import SeedStage
from esper.tolaria import EpochTrainer, TrainerConfig

TRAINING_EPOCHS = 4
"""Epochs a seed spends in TRAINING in the grid (the issue's figure)."""


def subset(data: TaskData, n_train: int, n_val: int, tokens: int | None = None) -> TaskData:
    """The first ``n_train``/``n_val`` samples (and, for sequences, the first ``tokens`` positions)."""
    s = data.splits
    cut = (lambda t: t) if tokens is None else (lambda t: t[:, :tokens].contiguous())
    return TaskData(
        spec=data.spec,
        splits=SplitTensors(cut(s.train_x[:n_train]), cut(s.train_y[:n_train]), cut(s.val_x[:n_val]), cut(s.val_y[:n_val])),
        vocab=data.vocab,
    )


def digits_data(task: str, n_train: int = 512) -> TaskData:
    return subset(load_task(task), n_train, 256)


def text_data(tokens: int = 16) -> TaskData:
    """The text task's corpus, 256 training sequences cut to ``tokens`` tokens (keeps transformer tests fast)."""
    return subset(load_task("text"), 256, 64, tokens)


def small_transformer(data: TaskData, seed: int = 0) -> MorphogeneticModel:
    """A 3-layer, 32-wide GPT host over the text vocabulary (the task's host is 6 x 64: same seeds, slower)."""
    vocab = data.spec.vocab_size
    assert vocab is not None
    torch.manual_seed(seed)
    host = TransformerHost(vocab_size=vocab, n_embd=32, n_head=2, n_layer=3, block_size=int(data.train_x.shape[1]))
    return MorphogeneticModel(host, task_config=TaskConfig(topology="transformer", max_epochs=25))


def digits_model(data: TaskData, seed: int = 0) -> MorphogeneticModel:
    torch.manual_seed(seed)
    return build_model(data)


@dataclass(frozen=True)
class Pretrained:
    """A host trained a few epochs, with its optimiser state (copied for every grid cell)."""

    model: MorphogeneticModel
    trainer: EpochTrainer


def pretrain(model: MorphogeneticModel, data: TaskData, config: TrainerConfig, epochs: int = 2) -> Pretrained:
    trainer = EpochTrainer(model, config)
    for _ in range(epochs):
        trainer.train_epoch(data)
    return Pretrained(model, trainer)


def fork(base: Pretrained) -> tuple[MorphogeneticModel, EpochTrainer]:
    """A deep copy of the pretrained host with a trainer whose host optimiser continues from the same state."""
    model = copy.deepcopy(base.model)
    trainer = EpochTrainer(model, base.trainer.config)
    trainer.host_optimizer.load_state_dict(base.trainer.host_optimizer.state_dict())
    trainer.generator.set_state(base.trainer.generator.get_state())
    return model, trainer


def start_training(model: MorphogeneticModel, slot_id: str, blueprint: str) -> SeedSlot:
    """Germinate ``blueprint`` in ``slot_id`` and step it into TRAINING (gate G1)."""
    model.germinate_seed(blueprint, f"{slot_id}-{blueprint}", slot=slot_id)
    slot = model.resolve_slot(slot_id)
    slot.step_epoch()
    assert slot.stage == SeedStage.TRAINING
    return slot


def slot_input(model: MorphogeneticModel, slot: SeedSlot, x: torch.Tensor) -> torch.Tensor:
    """The host features that reach ``slot`` for input ``x`` (eval mode, no grad)."""
    captured: list[torch.Tensor] = []
    handle = slot.register_forward_pre_hook(lambda _m, args: captured.append(args[0].detach()))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
        model.train(was_training)
    return captured[0]


def residual_ratio(model: MorphogeneticModel, slot: SeedSlot, x: torch.Tensor) -> float:
    """``|s(x) - x| / |x|`` of the slot's seed on the features reaching it (inf when non-finite)."""
    assert slot.seed is not None
    h = slot_input(model, slot, x)
    with torch.no_grad():
        ratio = float((slot.seed(h) - h).double().norm() / h.double().norm())
    return ratio if ratio == ratio else float("inf")


def params_finite(slot: SeedSlot) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in slot.seed_parameters())


def enter_blending(slot: SeedSlot) -> None:
    """Move a TRAINING seed into BLENDING with gate-passing metrics (alpha is still 0 until the first ramp step)."""
    state = slot.state
    assert state is not None
    state.metrics.seed_gradient_norm_ratio = 0.5
    state.metrics.epochs_in_current_stage = 5
    state.metrics.record_accuracy(50.0)
    state.metrics.record_accuracy(60.0)
    slot.step_epoch()
    assert slot.stage == SeedStage.BLENDING
