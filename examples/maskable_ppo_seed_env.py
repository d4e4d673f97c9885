"""Train sb3-contrib's MaskablePPO on ``esper/SeedEnv-v0`` and score it on fixed host seeds.

Esper's seed environment speaks the Gymnasium API, so agents from other RL libraries can drive it and be compared
with Tamiyo on the same hosts. This script

1. builds the environment with ``gymnasium.make("esper/SeedEnv-v0", task=..., max_epochs=...)``;
2. trains ``MaskablePPO`` (sb3-contrib) on it; the env's ``action_masks()`` gives the per-head masks concatenated
   in ``HEAD_NAMES`` order, which is MaskablePPO's convention for a ``MultiDiscrete`` action space;
3. evaluates the trained agent and a no-growth (always WAIT) policy on the same host seeds with
   :func:`esper.envs.evaluate_external_policy`, and prints final accuracy and return per seed.

Install and run (from the repository root)::

    pip install 'esper[gym]' sb3-contrib
    python examples/maskable_ppo_seed_env.py --timesteps 2000 --max-epochs 25 --eval-seeds 100 101 102

One timestep is one host epoch (about 0.3 s for ``digits_blind`` on one CPU core), so the default 2000 timesteps
take about ten minutes. This is a demonstration of the API, not a tuned agent: we make no claim about how many
timesteps MaskablePPO needs to match Tamiyo or the heuristic.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import gymnasium
import numpy as np
from numpy.typing import NDArray
from sb3_contrib import MaskablePPO

import esper.envs
from esper.envs import EpisodeResult, evaluate_external_policy, masked_predictor
from esper.leyline import HEAD_NAMES, LifecycleOp


def train(
    *, task: str, max_epochs: int, timesteps: int, n_steps: int, batch_size: int, n_epochs: int, seed: int
) -> MaskablePPO:
    """MaskablePPO trained for ``timesteps`` env steps (``timesteps / n_steps`` rollouts, each one update pass)."""
    env = gymnasium.make(esper.envs.ENV_ID, task=task, max_epochs=max_epochs)
    model = MaskablePPO(
        "MlpPolicy", env, n_steps=n_steps, batch_size=batch_size, n_epochs=n_epochs, seed=seed, verbose=0
    )
    model.learn(total_timesteps=timesteps)
    return model


def no_growth(obs: NDArray[np.float32], action_mask: NDArray[np.bool_]) -> list[int]:
    """The baseline that never grows: WAIT every epoch (the other heads are ignored)."""
    return [0] * (len(HEAD_NAMES) - 1) + [int(LifecycleOp.WAIT)]


def report(name: str, results: Sequence[EpisodeResult]) -> None:
    for r in results:
        print(
            f"{name:<12} host_seed={r.host_seed:<5} final_acc={r.final_val_accuracy:6.2f}% "
            f"return={r.episode_return:7.3f} germinated={r.seeds_germinated} fossilized={r.seeds_fossilized}"
        )
    mean = sum(r.final_val_accuracy for r in results) / len(results)
    print(f"{name:<12} mean final accuracy {mean:.2f}% over {len(results)} host seeds")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--task", default="digits_blind")
    parser.add_argument("--max-epochs", type=int, default=25, help="epochs (= steps) per episode")
    parser.add_argument("--timesteps", type=int, default=2000, help="training env steps")
    parser.add_argument("--n-steps", type=int, default=250, help="env steps per MaskablePPO rollout")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--n-epochs", type=int, default=4, help="passes over each rollout")
    parser.add_argument("--seed", type=int, default=0, help="MaskablePPO's seed")
    parser.add_argument("--eval-seeds", type=int, nargs="+", default=[100, 101, 102], help="host seeds to score on")
    args = parser.parse_args(argv)
    model = train(
        task=args.task,
        max_epochs=args.max_epochs,
        timesteps=args.timesteps,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        seed=args.seed,
    )
    env_kwargs = {"task": args.task, "max_epochs": args.max_epochs}
    report("MaskablePPO", evaluate_external_policy(masked_predictor(model), args.eval_seeds, **env_kwargs))
    report("no-growth", evaluate_external_policy(no_growth, args.eval_seeds, **env_kwargs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
