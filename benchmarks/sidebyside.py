"""Side by side: our PPO update vs sb3-contrib's ``RecurrentPPO.train()`` on the same shapes (issue 12).

Each side runs in its own long-lived worker process (same interpreter, same torch threads, same device). A worker
builds its agent, collects one rollout, warms up with one update, then times one update per ``run`` command.
The parent alternates the two workers round by round (and which goes first), so both see the same machine load,
and reports medians and the ratio ``theirs / ours`` (> 1: ours is faster).

sb3-contrib's side: ``MlpLstmPolicy`` with one shared LSTM of 128 (``shared_lstm=True``,
``enable_critic_lstm=False``), one hidden layer of 64 for the actor and the critic (``net_arch``), a
``MultiDiscrete`` action space with our five head sizes, obs 77, ``n_steps`` = steps, ``batch_size`` =
envs x steps / minibatches, 4 epochs. Only ``train()`` is timed (ours: ``PPOAgent.update``).

Needs the optional ``bench`` extra (``pip install -e '.[bench]'``). Run ``python -m benchmarks.sidebyside``
for the table on its own; ``benchmarks/bench_sidebyside.py`` runs it under pytest-benchmark.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import UPDATE_SHAPES, UpdateShape

ROOT = Path(__file__).resolve().parent.parent


def sb3_available() -> bool:
    """Whether sb3-contrib is installed (looked up without importing it)."""
    return importlib.util.find_spec("sb3_contrib") is not None


# --- workers (run in the child processes) -----------------------------------------------------------------
def _esper_update(shape: UpdateShape, device: str) -> Callable[[], None]:
    import torch

    from benchmarks.common import filled_buffer, make_agent, rerun_update

    agent = make_agent(shape, torch.device(device))
    buffer = filled_buffer(agent, shape.envs, shape.steps)
    rerun_update(agent, buffer)  # warm-up

    def update() -> None:
        rerun_update(agent, buffer)

    return update


def _sb3_update(shape: UpdateShape, device: str) -> Callable[[], None]:
    import gymnasium as gym
    import numpy as np
    import torch
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from benchmarks.common import OBS_DIM, synchronize
    from esper.leyline import head_sizes

    class RandomEnv(gym.Env[np.ndarray, np.ndarray]):
        """Random 77-feature observations, our five heads as a MultiDiscrete, fixed-length episodes."""

        def __init__(self, length: int, seed: int) -> None:
            self.observation_space = gym.spaces.Box(-5.0, 5.0, (OBS_DIM,), np.float32)
            self.action_space = gym.spaces.MultiDiscrete(list(head_sizes(3).values()))
            self._length, self._t = length, 0
            self._rng = np.random.default_rng(seed)

        def _obs(self) -> np.ndarray:
            return self._rng.standard_normal(OBS_DIM).astype(np.float32)

        def reset(
            self, *, seed: int | None = None, options: dict[str, Any] | None = None
        ) -> tuple[np.ndarray, dict[str, Any]]:
            self._t = 0
            return self._obs(), {}

        def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
            self._t += 1
            return self._obs(), float(self._rng.standard_normal()), self._t >= self._length, False, {}

    def env_factory(index: int) -> Callable[[], gym.Env[np.ndarray, np.ndarray]]:
        return lambda: RandomEnv(shape.steps, index)

    env = DummyVecEnv([env_factory(i) for i in range(shape.envs)])
    model = RecurrentPPO(
        "MlpLstmPolicy",
        env,
        n_steps=shape.steps,
        batch_size=shape.envs * shape.steps // shape.minibatches,
        n_epochs=4,
        policy_kwargs={
            "lstm_hidden_size": 128,
            "n_lstm_layers": 1,
            "shared_lstm": True,
            "enable_critic_lstm": False,
            "net_arch": {"pi": [64], "vf": [64]},
        },
        device=device,
        seed=0,
        verbose=0,
    )
    model.learn(total_timesteps=shape.envs * shape.steps)  # one rollout + one train() (warm-up)
    torch_device = torch.device(device)

    def update() -> None:
        model.train()
        synchronize(torch_device)

    return update


def worker_main(impl: str, shape: UpdateShape, device: str, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    update = (_esper_update if impl == "esper" else _sb3_update)(shape, device)
    print(json.dumps({"ready": impl, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start, cpu_start = time.perf_counter(), time.process_time()
        update()
        reply = {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start}
        print(json.dumps(reply), flush=True)


# --- the parent -------------------------------------------------------------------------------------------
class _Worker:
    def __init__(self, impl: str, shape: UpdateShape, device: str, threads: int) -> None:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        args = [sys.executable, "-m", "benchmarks.sidebyside", "--worker", impl, "--shape", shape.id]
        args += ["--device", device, "--threads", str(threads)]
        self.impl = impl
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read()

    def _read(self) -> dict[str, float]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.impl} worker exited with {self.proc.wait()}")
        reply: dict[str, float] = json.loads(line)
        return reply

    def run(self) -> tuple[float, float]:
        """One timed update: ``(wall seconds, CPU seconds of the worker process)``."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        reply = self._read()
        return reply["seconds"], reply["cpu_seconds"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


@dataclass
class SideBySide:
    """Two warm workers (ours, sb3-contrib's) for one shape; :meth:`round` times one update of each."""

    shape: UpdateShape
    device: str = "cpu"
    threads: int = 1
    ours: list[float] = field(default_factory=list)
    theirs: list[float] = field(default_factory=list)
    ours_cpu: list[float] = field(default_factory=list)
    theirs_cpu: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._esper = _Worker("esper", self.shape, self.device, self.threads)
        self._sb3 = _Worker("sb3", self.shape, self.device, self.threads)

    def round(self) -> None:
        """One update on each side; the side going first alternates between rounds."""
        pair = [(self._esper, self.ours, self.ours_cpu), (self._sb3, self.theirs, self.theirs_cpu)]
        if len(self.ours) % 2:
            pair.reverse()
        for worker, wall, cpu in pair:
            seconds, cpu_seconds = worker.run()
            wall.append(seconds)
            cpu.append(cpu_seconds)

    def close(self) -> None:
        self._esper.close()
        self._sb3.close()

    def summary(self) -> dict[str, float | int | str]:
        return summarize(self.shape, self.ours, self.theirs, self.ours_cpu, self.theirs_cpu)


def summarize(
    shape: UpdateShape, ours: list[float], theirs: list[float], ours_cpu: list[float], theirs_cpu: list[float]
) -> dict[str, float | int | str]:
    """Medians, samples/s and ``ratio`` = sb3-contrib's median / ours (> 1: ours is faster); same for CPU time."""
    if not ours or len(ours) != len(theirs):
        raise ValueError(f"need the same non-zero number of rounds on both sides, got {len(ours)} and {len(theirs)}")
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    return {
        "shape": shape.id,
        "rounds": len(ours),
        "ours_median_s": ours_s,
        "sb3_median_s": theirs_s,
        "ours_samples_per_s": shape.samples / ours_s,
        "sb3_samples_per_s": shape.samples / theirs_s,
        "ratio": theirs_s / ours_s,
        "cpu_ratio": statistics.median(theirs_cpu) / statistics.median(ours_cpu),
    }


def format_row(summary: dict[str, float | int | str]) -> str:
    return (
        f"{summary['shape']:>12}  ours {float(summary['ours_median_s']):.4f} s  "
        f"sb3-contrib {float(summary['sb3_median_s']):.4f} s  ours vs theirs {float(summary['ratio']):.2f}x "
        f"(CPU time {float(summary['cpu_ratio']):.2f}x, median of {summary['rounds']} alternating rounds)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", choices=("esper", "sb3"))
    parser.add_argument("--shape", choices=[s.id for s in UPDATE_SHAPES], action="append")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    shapes = [s for s in UPDATE_SHAPES if args.shape is None or s.id in args.shape]
    if args.worker:
        worker_main(args.worker, shapes[0], args.device, args.threads)
        return 0
    if not sb3_available():
        print("sb3-contrib is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    for shape in shapes:
        session = SideBySide(shape, args.device, args.threads)
        try:
            for _ in range(args.rounds):
                session.round()
        finally:
            session.close()
        print(format_row(session.summary()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
