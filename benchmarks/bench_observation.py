"""Per-epoch Tamiyo overhead: observation and masks for 4 envs, and a host forward with an active seed."""

from __future__ import annotations

import torch
from pytest_benchmark.fixture import BenchmarkFixture

from esper.data import build_model, load_task
from esper.tamiyo.policy.action_masks import compute_batch_masks
from esper.tamiyo.policy.features import build_observations
from esper.tamiyo.signals import SignalTracker


def test_observation_and_masks_4_envs(benchmark: BenchmarkFixture) -> None:
    task = load_task("digits")
    model = build_model(task)
    model.germinate_seed("conv_light", slot=0, blend_tempo_epochs=3)
    tracker = SignalTracker()
    signals = tracker.update(epoch=0, train_loss=1.0, val_loss=1.1, train_accuracy=60.0, val_accuracy=55.0)
    reports = model.slot_reports()

    def step() -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        obs = build_observations([(signals, reports)] * 4)
        masks = compute_batch_masks([reports] * 4, seeds_germinated=[1, 1, 1, 1])
        return obs, masks

    obs, masks = benchmark(step)
    assert obs.shape[0] == 4 and masks["tempo"].shape == (4, 3)


def test_host_forward_with_blending_seed(benchmark: BenchmarkFixture) -> None:
    task = load_task("digits")
    model = build_model(task)
    model.germinate_seed("conv_light", slot=1, blend_tempo_epochs=5)
    slot = model.resolve_slot(1)
    state = slot.state
    assert state is not None
    slot.step_epoch()  # G1: TRAINING
    for i in range(3):  # G2: 3 epochs, +2 points, healthy gradient ratio
        state.metrics.record_accuracy(50.0 + i)
        state.metrics.seed_gradient_norm_ratio = 0.5
        slot.step_epoch()
    slot.step_epoch()  # one ramp step: 0 < alpha < 1
    assert 0.0 < state.alpha < 1.0
    x = task.val_x[:128]
    with torch.no_grad():
        out = benchmark(model, x)
    assert out.shape == (128, 10)
