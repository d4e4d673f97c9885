"""Command line: ``esper train``, ``esper report``, ``esper study`` and ``esper demo`` (the main job)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import torch

from esper.leyline import TempoAction
from esper.simic.rewards import REWARD_MODES
from esper.simic.study import STUDY_PRESETS, get_study_preset, run_study
from esper.simic.training.config import POLICIES, TrainingConfig, parse_policy
from esper.simic.training.distributed import DistContext, init_distributed, launched_world_size
from esper.simic.training.presets import PRESETS, get_preset
from esper.simic.training.vectorized import run_training


def _config(policy: str, args: argparse.Namespace) -> TrainingConfig:
    preset = get_preset(args.preset)
    return TrainingConfig(
        policy=parse_policy(policy),
        task=preset.task if args.task is None else args.task,
        episodes=preset.episodes if args.episodes is None else args.episodes,
        n_envs=preset.n_envs if args.n_envs is None else args.n_envs,
        max_epochs=preset.max_epochs if args.max_epochs is None else args.max_epochs,
        device=args.device,
        seed=args.seed,
        data_dir=args.data_dir,
        force_tempo=args.force_tempo,
        tensorboard=args.tensorboard,
        n_minibatches=min(2, preset.n_envs if args.n_envs is None else args.n_envs),
        threads=args.threads,
        **({} if args.reward is None else {"reward_mode": args.reward}),
    )


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="digits_blind", choices=list(PRESETS), help="defaults for task/episodes/envs/epochs")
    p.add_argument("--task", default=None, help="override the preset's task")
    p.add_argument("--episodes", type=int, default=None)
    p.add_argument("--n-envs", type=int, default=None)
    p.add_argument("--max-epochs", type=int, default=None)
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="local dataset folder (cifar10) or text file (text)")
    p.add_argument(
        "--force-tempo", default=None, choices=list(TempoAction.__members__), help="rollback quick fix: one tempo for all"
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--reward", default=None, choices=list(REWARD_MODES), help="reward mode (default: growth)")
    p.add_argument("--tensorboard", action="store_true", help="also log TensorBoard scalars (pip install 'esper[tensorboard]')")
    p.add_argument(
        "--threads", type=int, default=1, help="torch intra-op CPU threads (default 1: fastest for the tiny hosts)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace the run(s) already in --out (default: refuse)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="esper", description="Esper: grow networks while they train (Tamiyo/PPO).")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train Tamiyo with PPO, or run a rule-based baseline")
    train.add_argument("policy", choices=list(POLICIES))
    train.add_argument("--out", required=True, help="run folder")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    _add_run_args(train)
    report = sub.add_parser("report", help="write report.md and PNG plots for a run folder (or a folder of runs)")
    report.add_argument("run_dir")
    report.add_argument("--out", default=None, help="report folder (default: RUN_DIR)")
    study = sub.add_parser(
        "study", help="multi-seed study: train PPO over seeds, evaluate it, the heuristic and no-growth on held-out hosts"
    )
    study.add_argument("--preset", default="digits_blind", choices=list(STUDY_PRESETS), help="study size and task")
    study.add_argument("--out", required=True, help="study folder (study.md, study.json, one run folder per run)")
    study.add_argument("--resume", action="store_true", help="continue an interrupted study in --out")
    study.add_argument("--task", default=None)
    study.add_argument("--train-seeds", type=int, default=None, help="PPO training seeds (0 .. N-1)")
    study.add_argument("--train-episodes", type=int, default=None, help="PPO episodes per training seed")
    study.add_argument("--eval-episodes", type=int, default=None, help="held-out evaluation episodes per policy")
    study.add_argument("--n-envs", type=int, default=None)
    study.add_argument("--max-epochs", type=int, default=None)
    study.add_argument("--reward", default=None, choices=list(REWARD_MODES), help="reward mode of PPO training")
    study.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    study.add_argument("--data-dir", default=None)
    study.add_argument("--threads", type=int, default=1, help="torch intra-op CPU threads")
    study.add_argument("--jobs", type=int, default=1, help="runs at once, one process each (e.g. one per CPU core)")
    study.add_argument("--no-progress", action="store_true", help="hide progress bars")
    demo = sub.add_parser("demo", help="main job: PPO + heuristic + no-growth baseline on one task, then the report")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--baseline-episodes", type=int, default=8, help="episodes of the heuristic and no-growth runs")
    _add_run_args(demo)
    return parser


def _train(policy: str, args: argparse.Namespace, out: Path, resume: bool, context: DistContext) -> None:
    config = _config(policy, args)
    torch.set_num_threads(config.threads)
    start = time.perf_counter()
    result = run_training(
        config, out, resume=resume, overwrite=args.overwrite, progress_bar=not args.no_progress, context=context
    )
    if not context.is_main:
        return
    accs = result.final_accuracies
    tail = accs[-config.n_envs :] if accs else []
    mean_tail = sum(tail) / len(tail) if tail else float("nan")
    print(
        f"[esper] {policy} on {config.task}: {len(accs)} episodes in {time.perf_counter() - start:.1f}s, "
        f"last-batch mean final accuracy {mean_tail:.2f}% -> {out}"
        + (f" ({context.world_size} processes)" if context.world_size > 1 else "")
    )


def _report(run_dir: Path, out: Path | None) -> None:
    from esper.nissa.report import write_report

    path = write_report(run_dir, out)
    print(f"[esper] report: {path}")


def _study(args: argparse.Namespace) -> None:
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    preset = get_study_preset(args.preset)
    overrides = {
        "task": args.task,
        "train_seeds": args.train_seeds,
        "train_episodes": args.train_episodes,
        "eval_episodes": args.eval_episodes,
        "n_envs": args.n_envs,
        "max_epochs": args.max_epochs,
        "reward_mode": args.reward,
        "data_dir": args.data_dir,
    }
    config = dataclasses.replace(preset, device=args.device, threads=args.threads, **{k: v for k, v in overrides.items() if v is not None})
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {config.device!r} requested but CUDA is not available; use --device cpu")
    start = time.perf_counter()
    path = run_study(config, Path(args.out), resume=args.resume, progress_bar=not args.no_progress, jobs=args.jobs)
    print(f"[esper] study on {config.task} in {time.perf_counter() - start:.1f}s -> {path}")


def _os_error_message(exc: OSError) -> str:
    """``<path>: <reason>`` for a failed file operation (no traceback, no errno soup)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


@contextmanager
def _plain_warnings() -> Iterator[None]:
    """Show library warnings (e.g. a skipped torn telemetry line) as ``esper: warning: ...`` lines on stderr."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        print(f"esper: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 for a clear error: bad value, missing or unwritable file)."""
    args = _parser().parse_args(argv)
    try:
        with _plain_warnings():
            _dispatch(args)
    except (ValueError, ImportError) as exc:
        print(f"esper: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # FileNotFoundError, a file where a folder should be, read-only fs, full disk...
        print(f"esper: error: {_os_error_message(exc)}", file=sys.stderr)
        return 2
    return 0


def _dispatch(args: argparse.Namespace) -> None:
    if args.command in ("report", "study"):
        if launched_world_size() > 1:
            raise ValueError(f"esper {args.command} runs in one process; run it without torchrun")
        if args.command == "study":
            _study(args)
        else:
            _report(Path(args.run_dir), None if args.out is None else Path(args.out))
        return
    # Under torchrun: join the process group (or refuse), never N copies writing one run folder.
    context = init_distributed(args.device)
    try:
        if args.command == "train":
            _train(args.policy, args, Path(args.out), args.resume, context)
        else:
            out = Path(args.out)
            _train("ppo", args, out / "ppo", False, context)
            args.episodes = args.baseline_episodes
            _train("heuristic", args, out / "heuristic", False, context)
            _train("baseline", args, out / "baseline", False, context)
            if context.is_main:
                _report(out, None)
    finally:
        context.close()
