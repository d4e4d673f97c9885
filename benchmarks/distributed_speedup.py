"""Env-epochs per second of PPO training on 1 vs N gloo processes, measured A/B alternating (issue 15).

    PYTHONPATH=$PWD .venv/bin/python -m benchmarks.distributed_speedup --rounds 5 --world 2

Each round runs the same config (same seed, same total envs) once on 1 process and once on ``--world``
processes (spawned, one intra-op thread each, 127.0.0.1), in alternating order, and prints env-epochs/s of the
training loop (process start-up and group join excluded) and the per-round ratio; the summary is the median.
On a shared machine the absolute figures move with other people's load: compare the ratio of a round's pair.
Each round also measures the machine's *parallel ceiling*: the same fixed CPU work (no communication) on 1 and on
``--world`` processes at once; ``ceiling = world * t_1 / t_world`` is the best any N-process run could reach at
that moment (``world`` on an idle machine with at least ``world`` cores, less when other jobs compete).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from esper.simic.training import TrainingConfig, VectorizedTrainer
from esper.simic.training.distributed import DistContext, spawn_local


def _rank(context: DistContext, config: TrainingConfig, out: str) -> None:
    trainer = VectorizedTrainer(config, Path(out) / "run", context=context)
    context.barrier()  # time the training loop, not one rank waiting for the other to finish starting up
    result = trainer.run()
    Path(out, f"rank{context.rank}.json").write_text(json.dumps(result.seconds))


def _fixed_work(context: DistContext, out: str) -> None:
    """The same CPU work on every rank (small matmuls, like a tiny host's training step), timed after a barrier."""
    context.barrier()
    gen = torch.Generator().manual_seed(context.rank)
    a, b = torch.randn(64, 64, generator=gen), torch.randn(64, 64, generator=gen)
    started = time.perf_counter()
    for _ in range(3_000):
        a = torch.tanh(a @ b)
    Path(out, f"work{context.rank}.json").write_text(json.dumps(time.perf_counter() - started))


def _read_seconds(path: Path, key: str | None = None) -> float:
    data = json.loads(path.read_text())
    return float(data if key is None else data[key])


def parallel_ceiling(world: int) -> float:
    """``world * t_1 / t_world`` for a fixed CPU workload per process (see the module docstring)."""
    times = {}
    for n in (1, world):
        with tempfile.TemporaryDirectory(prefix="esper-dist-ceiling-") as out:
            spawn_local(_fixed_work, n, out)
            times[n] = max(_read_seconds(Path(out, f"work{r}.json")) for r in range(n))
    return world * times[1] / times[world]


def env_epochs_per_second(world: int, config: TrainingConfig) -> float:
    """Env-epochs/s of one run of ``config`` on ``world`` spawned processes (the slowest rank's loop time)."""
    with tempfile.TemporaryDirectory(prefix="esper-dist-bench-") as out:
        spawn_local(_rank, world, config, out)
        seconds = max(_read_seconds(Path(out, f"rank{r}.json"), "total") for r in range(world))
    return config.batches * config.n_envs * config.max_epochs / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--task", default="digits_blind")
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--batches", type=int, default=1)
    args = parser.parse_args()
    config = TrainingConfig(
        policy="ppo", task=args.task, n_envs=args.n_envs, episodes=args.n_envs * args.batches, max_epochs=args.max_epochs
    )
    print(f"config: {config}; {os.cpu_count()} CPUs; load average {os.getloadavg()}")
    ratios: list[float] = []
    ceilings: list[float] = []
    for round_ in range(args.rounds):
        order = [1, args.world] if round_ % 2 == 0 else [args.world, 1]
        rates = {}
        for world in order:
            rates[world] = env_epochs_per_second(world, config)
        ratio = rates[args.world] / rates[1]
        ratios.append(ratio)
        ceiling = parallel_ceiling(args.world)
        ceilings.append(ceiling)
        print(
            f"round {round_ + 1}: 1 process {rates[1]:.2f} env-epochs/s, {args.world} processes "
            f"{rates[args.world]:.2f} env-epochs/s, speedup {ratio:.2f}, parallel ceiling {ceiling:.2f} "
            f"(order {order}, load {os.getloadavg()[0]:.1f}, {time.strftime('%H:%M:%S')})",
            flush=True,
        )
    print(
        f"median speedup {statistics.median(ratios):.2f} over {len(ratios)} rounds (min {min(ratios):.2f}, "
        f"max {max(ratios):.2f}); median parallel ceiling {statistics.median(ceilings):.2f}"
    )


if __name__ == "__main__":
    main()
