"""Kasmina and Tamiyo per-step overhead (issue 12): dormant slots, a BLENDING slot, observation + masks."""

from __future__ import annotations

import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.common import bench_device, is_smoke, median_seconds, paired_medians, record, report
from esper.data import build_model, load_task
from esper.kasmina.host import MorphogeneticModel
from esper.kasmina.slot import SeedSlot
from esper.leyline import SeedStage
from esper.tamiyo.policy.action_masks import compute_batch_masks
from esper.tamiyo.policy.features import build_observations
from esper.tamiyo.signals import SignalTracker

pytestmark = pytest.mark.req("ISSUE.12.2")

BATCH = 128


def _digits_model() -> tuple[MorphogeneticModel, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    device = bench_device()
    task = load_task("digits", device=device)
    model = build_model(task, device=device)
    return model, task.val_x[:BATCH], task.val_y[:BATCH]


def _blending_slot(model: MorphogeneticModel, index: int) -> SeedSlot:
    """Slot ``index`` with a conv_light seed driven through G1 and G2 to mid-ramp BLENDING (0 < alpha < 1)."""
    model.germinate_seed("conv_light", slot=index, blend_tempo_epochs=5)
    slot = model.resolve_slot(index)
    state = slot.state
    assert state is not None
    slot.step_epoch()  # G1: TRAINING
    for i in range(3):  # G2: 3 epochs, +2 points, healthy gradient ratio
        state.metrics.record_accuracy(50.0 + i)
        state.metrics.seed_gradient_norm_ratio = 0.5
        slot.step_epoch()
    slot.step_epoch()  # one ramp step
    assert state.stage is SeedStage.BLENDING and 0.0 < state.alpha < 1.0
    return slot


def test_host_forward_backward_dormant_slots_vs_bare(benchmark: BenchmarkFixture) -> None:
    """Forward + backward of the digits host through its 3 dormant slots (timed), and side by side the bare host."""
    model, x, y = _digits_model()
    assert len(model.seed_slots) == 3 and all(s.state is None for s in model.seed_slots)
    loss_fn = torch.nn.CrossEntropyLoss()

    def with_slots() -> None:
        model.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()

    def bare_host() -> None:
        model.zero_grad(set_to_none=True)
        loss_fn(model.host(x), y).backward()

    benchmark(with_slots)
    record(benchmark, batch=BATCH, task="digits", slots=3, slot_stage="DORMANT")
    slots_s, bare_s = paired_medians(with_slots, bare_host, rounds=1 if is_smoke(benchmark) else 101)
    ratio = slots_s / bare_s
    report(benchmark, "dormant_over_bare", ratio, f"host fwd+bwd, 3 dormant slots / bare host: {ratio:.3f}x "
           f"({slots_s * 1e3:.3f} ms vs {bare_s * 1e3:.3f} ms, batch {BATCH})")


def test_slot_forward_blending(benchmark: BenchmarkFixture) -> None:
    """One slot's forward in BLENDING (seed + alpha blend) on the features that reach it; no grad."""
    model, x, _ = _digits_model()
    slot = _blending_slot(model, 1)
    with torch.no_grad():
        h = model.host.embed(x)
        for segment in list(model.host.segments)[:2]:
            h = segment(h)
        out = benchmark(slot, h)
    assert out.shape == h.shape
    record(benchmark, batch=BATCH, task="digits", slot=1, features=list(h.shape), stage="BLENDING")


def test_host_forward_with_blending_seed(benchmark: BenchmarkFixture) -> None:
    """The whole digits model's forward with one seed mid-ramp in BLENDING; no grad."""
    model, x, _ = _digits_model()
    _blending_slot(model, 1)
    with torch.no_grad():
        out = benchmark(model, x)
    assert out.shape == (BATCH, 10)
    record(benchmark, batch=BATCH, task="digits", blending_slots=1)


@pytest.mark.parametrize("envs", [1, 4])
def test_observation_and_masks_per_env_step(benchmark: BenchmarkFixture, envs: int) -> None:
    """Tamiyo's observation and action masks for ``envs`` envs (one env-step each); extra_info: per env-step."""
    torch.manual_seed(0)
    model, _, _ = _digits_model()
    model.germinate_seed("conv_light", slot=0, blend_tempo_epochs=3)
    tracker = SignalTracker()
    signals = tracker.update(epoch=0, train_loss=1.0, val_loss=1.1, train_accuracy=60.0, val_accuracy=55.0)
    reports = model.slot_reports()

    def step() -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        obs = build_observations([(signals, reports)] * envs)
        masks = compute_batch_masks([reports] * envs, seeds_germinated=[1] * envs)
        return obs, masks

    obs, masks = benchmark(step)
    assert obs.shape[0] == envs and masks["tempo"].shape == (envs, 3)
    record(benchmark, envs=envs, obs_dim=obs.shape[1], slots=3)
    if not is_smoke(benchmark):
        per_step = median_seconds(benchmark) / envs
        report(benchmark, "seconds_per_env_step", per_step,
               f"observation + masks: {per_step * 1e6:.0f} us per env-step ({envs} envs per call)")
