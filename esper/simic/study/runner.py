"""``run_study``: train PPO over several seeds, evaluate every policy on one held-out set, write the report.

Layout of a study folder::

    study_config.json            the StudyConfig (a resumed study must match it)
    train/seed<s>/               PPO training run of training seed s (checkpoint.pt = the trained policy)
    eval/ppo_greedy/seed<s>/     trained policy s on the held-out set, argmax actions
    eval/ppo_sampled/seed<s>/    the same, sampled actions
    eval/heuristic/, eval/no_growth/, eval/<external name>/
    study.json, study.md         the results (esper.simic.study.report)

Every run folder gets a ``study_run.json`` (``{"seconds": wall time}``) when it finishes; a resumed study skips
finished runs and resumes an interrupted one from its last finished batch.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from esper.leyline.validation import MAX_COUNT, check_int
from esper.simic.atomic import atomic_write_text
from esper.simic.study.config import StudyConfig
from esper.simic.study.external import StudyPolicy
from esper.simic.study.report import ELAPSED_FILE, write_study_report
from esper.simic.training.config import TrainingConfig
from esper.simic.training.run_dir import RunDir
from esper.simic.training.vectorized import run_training

DONE_FILE = "study_run.json"
CONFIG_FILE = "study_config.json"
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class _Job:
    label: str
    folder: Path
    config: TrainingConfig
    external: StudyPolicy | None = None
    after: Path | None = None
    """Folder of the run this job needs finished first (an evaluation needs its training run's checkpoint)."""


def _jobs(config: StudyConfig, root: Path, external: Sequence[StudyPolicy]) -> list[_Job]:
    jobs = [_Job(f"train seed {s}", root / "train" / f"seed{s}", config.training(s)) for s in range(config.train_seeds)]
    for s in range(config.train_seeds):
        checkpoint = RunDir(root / "train" / f"seed{s}").checkpoint_path
        for mode in ("greedy", "sampled"):
            jobs.append(
                _Job(
                    f"eval ppo_{mode} seed {s}",
                    root / "eval" / f"ppo_{mode}" / f"seed{s}",
                    config.evaluation("ppo", mode=mode, checkpoint=checkpoint),
                    after=root / "train" / f"seed{s}",
                )
            )
    jobs.append(_Job("eval heuristic", root / "eval" / "heuristic", config.evaluation("heuristic")))
    jobs.append(_Job("eval no_growth", root / "eval" / "no_growth", config.evaluation("baseline")))
    for policy in external:
        jobs.append(_Job(f"eval {policy.name}", root / "eval" / policy.name, config.evaluation("baseline"), policy))
    return jobs


def _finished(folder: Path) -> bool:
    return (folder / DONE_FILE).is_file()


def _run_job(job: _Job, progress_bar: bool) -> None:
    started = time.perf_counter()
    job.folder.mkdir(parents=True, exist_ok=True)
    if job.external is not None:
        job.external.run(job.config, job.folder)
    else:
        resume = RunDir(job.folder).config_path.is_file()
        run_training(job.config, job.folder, resume=resume, progress_bar=progress_bar)
    atomic_write_text(job.folder / DONE_FILE, json.dumps({"seconds": time.perf_counter() - started}))


def _check_external(external: Sequence[StudyPolicy]) -> None:
    names = [p.name for p in external]
    for policy in external:
        if not isinstance(policy, StudyPolicy):
            raise TypeError(f"external policies must implement StudyPolicy (name, run), got {type(policy).__name__}")
        if not _NAME.match(policy.name) or policy.name.startswith("ppo_") or policy.name in ("heuristic", "no_growth"):
            raise ValueError(
                f"external policy name {policy.name!r} must match [A-Za-z0-9_-]+ and not clash with ppo_*, heuristic, no_growth"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"external policy names must be unique, got {names}")


def _run_parallel(jobs: list[_Job], workers: int, on_done: Callable[[str], None]) -> None:
    """Run ``jobs`` in ``workers`` spawned processes, each job once its ``after`` run has finished.

    Every job is a separate seeded run, so the results do not depend on ``workers`` or on the finishing order.
    The first failure cancels what has not started and is raised.
    """
    waiting = list(jobs)
    running: dict[Future[None], _Job] = {}
    context = multiprocessing.get_context("spawn")  # fork after torch's thread pools start is unsafe
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        while waiting or running:
            ready = [job for job in waiting if job.after is None or _finished(job.after)]
            for job in ready[: workers - len(running)]:
                waiting.remove(job)
                running[pool.submit(_run_job, job, False)] = job
            if not running:
                blocked = ", ".join(job.label for job in waiting)
                raise RuntimeError(f"study jobs wait on runs that did not finish: {blocked}")
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                error = future.exception()
                if error is not None:
                    for other in running:
                        other.cancel()
                    raise RuntimeError(f"study job {job.label!r} failed: {error}") from error
                on_done(job.label)


def run_study(
    config: StudyConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress_bar: bool = False,
    external: Sequence[StudyPolicy] = (),
    jobs: int = 1,
) -> Path:
    """Run (or resume) the study into ``out_dir`` and write ``study.json``/``study.md``; returns ``study.md``.

    Without ``resume`` an existing study folder is an error (nothing is overwritten silently); with it, the stored
    ``study_config.json`` must equal ``config``. ``jobs``: runs at once, each in its own process (one per CPU core
    with ``threads=1``); results are identical for any ``jobs``, so a study may be resumed with another value.
    External policies always run in this process, after the others.
    """
    if not isinstance(config, StudyConfig):
        raise TypeError(f"config must be a StudyConfig, got {type(config).__name__}")
    workers = check_int("jobs", jobs, low=1, high=MAX_COUNT)
    _check_external(external)
    root = Path(out_dir)
    stored = root / CONFIG_FILE
    if stored.exists():
        if not resume:
            raise ValueError(f"{root} already holds a study; pass resume=True (--resume) to continue it, or pick a new folder")
        previous = StudyConfig.read(stored)
        if previous != config:
            raise ValueError(f"cannot resume {root}: stored study config {previous.to_dict()} differs from {config.to_dict()}")
    root.mkdir(parents=True, exist_ok=True)
    config.write(stored)
    todo = _jobs(config, root, external)
    started = time.perf_counter()
    if workers == 1:
        bar = tqdm(todo, desc=f"study:{config.task}", unit="run", disable=not progress_bar)
        for job in bar:
            bar.set_postfix_str(job.label)
            if not _finished(job.folder):
                _run_job(job, progress_bar)
    else:
        pending = [job for job in todo if not _finished(job.folder)]
        with tqdm(total=len(todo), initial=len(todo) - len(pending), desc=f"study:{config.task}", unit="run",
                  disable=not progress_bar) as bar:
            def done(label: str) -> None:
                bar.update(1)
                bar.set_postfix_str(f"done: {label}")

            _run_parallel([job for job in pending if job.external is None], workers, done)
            for job in pending:
                if job.external is not None:
                    _run_job(job, False)
                    bar.update(1)
    _record_elapsed(root / ELAPSED_FILE, workers, time.perf_counter() - started)
    return write_study_report(root, config, [p.name for p in external])


def _record_elapsed(path: Path, workers: int, seconds: float) -> None:
    entries = json.loads(path.read_text()) if path.is_file() else []
    entries.append({"jobs": workers, "seconds": seconds})
    atomic_write_text(path, json.dumps(entries))


__all__ = ["CONFIG_FILE", "DONE_FILE", "ELAPSED_FILE", "run_study"]
