"""Shared helpers for Kasmina conformance tests: drive a slot through its lifecycle."""

from __future__ import annotations

import torch

from esper.kasmina import SeedSlot, SeedStage

ORDER = (SeedStage.GERMINATED, SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.PROBATIONARY,
         SeedStage.FOSSILIZED)


def drive_to(slot: SeedSlot, target: SeedStage, *, counterfactual: float = 2.0, max_epochs: int = 40) -> None:
    """Advance a germinated seed to ``target`` (one of ORDER) with metrics that pass G2/G3/G5."""
    assert slot.state is not None
    for _ in range(max_epochs):
        state = slot.state
        assert state is not None
        if state.stage == target:
            return
        if state.stage == SeedStage.PROBATIONARY and target == SeedStage.FOSSILIZED:
            state.metrics.record_counterfactual(counterfactual)
            assert slot.fossilize().passed
            continue
        m = state.metrics
        m.record_accuracy(min(100.0, 40.0 + m.epochs_total))
        m.seed_gradient_norm_ratio = 0.5
        m.record_counterfactual(counterfactual if state.stage == SeedStage.BLENDING else None)
        assert slot.step_epoch() is False
    raise AssertionError(f"did not reach {target.name}; stuck in {slot.stage.name}")


def make_slot(blueprint: str = "norm", *, topology: str = "cnn", channels: int = 8, algorithm: str = "sigmoid",
              tempo: int = 5, stage: SeedStage = SeedStage.GERMINATED) -> SeedSlot:
    slot = SeedSlot("s0", channels, topology=topology)
    slot.germinate(blueprint, blend_algorithm_id=algorithm, blend_tempo_epochs=tempo)
    drive_to(slot, stage)
    return slot


def feature_shape(topology: str, channels: int, batch: int = 2) -> tuple[int, ...]:
    return (batch, channels, 4, 4) if topology == "cnn" else (batch, 6, channels)


def perturb_(module: torch.nn.Module, scale: float = 0.3) -> None:
    """Move every parameter away from its init so identity-at-init no longer hides the seed."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn_like(p))
