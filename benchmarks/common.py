"""Shared set-up of the benchmarks: sizes, the PPO update configurations and a filled rollout buffer.

Every benchmark records what it measured in ``benchmark.extra_info`` (:func:`record`): sizes, torch threads and
the device, so saved runs can be compared across machines. ``ESPER_BENCH_DEVICE`` (default ``cpu``) selects the
device (``scripts/gpu_check.sh`` sets ``cuda``); ``ESPER_BENCH_THREADS`` (default 1) the torch CPU threads.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

import torch
from pytest_benchmark.fixture import BenchmarkFixture

from esper.leyline import LifecycleOp
from esper.simic.agent import PPOAgent, PPOConfig
from esper.simic.agent.rollout_buffer import TamiyoRolloutBuffer
from esper.tamiyo.policy.features import get_feature_size

T = TypeVar("T")

OBS_DIM = get_feature_size(3)
"""Observation size of the default three-slot layout (77)."""
PPO_EPOCHS = 4


@dataclass(frozen=True)
class UpdateShape:
    """One PPO update configuration: ``envs`` sequences of ``steps`` steps, ``minibatches`` per epoch."""

    envs: int
    steps: int
    minibatches: int

    @property
    def id(self) -> str:
        return f"{self.envs}x{self.steps}-{self.minibatches}mb"

    @property
    def samples(self) -> int:
        """Samples processed by one update: env steps x PPO epochs."""
        return self.envs * self.steps * PPO_EPOCHS


UPDATE_SHAPES = (UpdateShape(4, 25, 1), UpdateShape(16, 25, 1), UpdateShape(32, 50, 4))
"""The three configurations of issue 12 (obs 77, 4 epochs, 1 thread)."""


def bench_device() -> torch.device:
    """The benchmark device: ``ESPER_BENCH_DEVICE`` (default ``cpu``)."""
    return torch.device(os.environ.get("ESPER_BENCH_DEVICE", "cpu"))


def bench_threads() -> int:
    """Torch CPU threads for the benchmarks: ``ESPER_BENCH_THREADS`` (default 1)."""
    return int(os.environ.get("ESPER_BENCH_THREADS", "1"))


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels (timings on CUDA must include them)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return device.type


def record(benchmark: BenchmarkFixture, **sizes: object) -> None:
    """Store sizes, torch threads, the device and the torch version with the benchmark's timings."""
    benchmark.extra_info.update(sizes)
    benchmark.extra_info["threads"] = torch.get_num_threads()
    benchmark.extra_info["device"] = device_name(bench_device())
    benchmark.extra_info["torch"] = torch.__version__


def all_valid_masks(agent: PPOAgent, *lead: int) -> dict[str, torch.Tensor]:
    """Masks allowing every action except blueprint 0 (so masking is exercised), shape ``(*lead, n)``."""
    device = agent.device
    masks = {n: torch.ones(*lead, k, dtype=torch.bool, device=device) for n, k in agent.network.head_sizes.items()}
    masks["blueprint"][..., 0] = False
    return masks


def make_agent(shape: UpdateShape, device: torch.device, seed: int = 0) -> PPOAgent:
    """An agent with ``shape``'s minibatches, 4 epochs and no KL stop (every update does the full work)."""
    torch.manual_seed(seed)
    config = PPOConfig(target_kl=None, n_minibatches=shape.minibatches, ppo_epochs=PPO_EPOCHS)
    return PPOAgent(OBS_DIM, config, device=device)


def filled_buffer(agent: PPOAgent, envs: int, steps: int, seed: int = 0) -> TamiyoRolloutBuffer:
    """One rollout of ``envs`` x ``steps`` random observations acted on by ``agent``; one episode per env."""
    generator = torch.Generator().manual_seed(seed)
    device = agent.device
    buffer = agent.make_buffer(envs, steps)
    hidden = agent.initial_hidden(envs)
    masks = all_valid_masks(agent, envs)
    for t in range(steps):
        obs = torch.randn(envs, OBS_DIM, generator=generator).to(device)
        actions, log_probs, values, new_hidden = agent.get_action(obs, hidden, masks)
        done = torch.full((envs,), t == steps - 1, device=device)
        rewards = (actions["op"] == LifecycleOp.GERMINATE).float() + 0.1 * torch.randn(envs, generator=generator).to(
            device
        )
        buffer.add_batch(
            obs=obs,
            actions=actions,
            log_probs=log_probs,
            masks=masks,
            values=values,
            rewards=rewards,
            dones=done,
            truncated=torch.zeros_like(done),
            hidden=hidden,
        )
        hidden = new_hidden
    buffer.finish(torch.zeros(envs, device=device))
    return buffer


def rerun_update(agent: PPOAgent, buffer: TamiyoRolloutBuffer) -> dict[str, float]:
    """One more PPO update on the same finished rollout (what the timed update benchmarks repeat)."""
    buffer.finished = True
    metrics = agent.update(buffer)
    synchronize(agent.device)
    return metrics


RATIOS: list[str] = []
"""Summary lines (ratios, throughputs) collected during the run; ``benchmarks/conftest.py`` prints them at the end."""


def paired_medians(
    first: Callable[[], object], second: Callable[[], object], rounds: int, inner: int = 1
) -> tuple[float, float]:
    """Median seconds of ``first`` and ``second`` timed alternately (``inner`` calls per sample, which goes first
    alternates), so both see the same machine load. Returns ``(first, second)`` per call."""
    device = bench_device()
    samples: tuple[list[float], list[float]] = ([], [])
    pair = ((first, samples[0]), (second, samples[1]))
    for fn, _ in pair:  # warm-up
        fn()
    for r in range(rounds):
        for fn, sink in pair if r % 2 == 0 else pair[::-1]:
            synchronize(device)
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            synchronize(device)
            sink.append((time.perf_counter() - start) / inner)
    return statistics.median(samples[0]), statistics.median(samples[1])


def report(benchmark: BenchmarkFixture, key: str, value: float, line: str) -> None:
    """Record ``value`` as ``extra_info[key]`` and ``line`` for the end-of-run summary (not in smoke runs)."""
    benchmark.extra_info[key] = value
    if not benchmark.disabled:
        RATIOS.append(line)


def pedantic(benchmark: BenchmarkFixture, fn: Callable[[], T], rounds: int, warmup_rounds: int = 0) -> T:
    """``benchmark.pedantic`` (one call per round), typed."""
    run = cast(Callable[..., T], benchmark.pedantic)
    return run(fn, rounds=rounds, iterations=1, warmup_rounds=warmup_rounds)


def median_seconds(benchmark: BenchmarkFixture) -> float:
    """The median of the timed rounds (only after a timed, non-smoke run)."""
    stats = benchmark.stats
    assert stats is not None, "no timings: the benchmark was disabled"
    return float(stats.stats.median)


def is_smoke(benchmark: BenchmarkFixture) -> bool:
    """``--benchmark-disable`` (the test gate): run every benchmark once, with the smallest side-by-side."""
    return bool(benchmark.disabled)
