"""A run folder: config.json, telemetry.jsonl, checkpoint.pt and progress.json (resume bookkeeping).

One source of truth for progress (issue 13, ``DEC.reliability.1``): a PPO run's progress lives inside its
checkpoint (written atomically with the weights and optimiser it describes); ``progress.json`` is written after
it and, on resume, may only lag behind the checkpoint by the one write that a kill interrupted. A rule-based run
has no checkpoint, so its ``progress.json`` (atomic) is the record. Every write is atomic (``esper.simic.atomic``)
and temp files a killed process left behind are removed on every start and resume.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from esper.leyline.validation import check_int
from esper.simic.atomic import atomic_write_text, remove_stale_temp_files
from esper.simic.training.config import TrainingConfig

CONFIG_FILE = "config.json"
TELEMETRY_FILE = "telemetry.jsonl"
CHECKPOINT_FILE = "checkpoint.pt"
PROGRESS_FILE = "progress.json"
RUN_FILES: tuple[str, ...] = (CONFIG_FILE, TELEMETRY_FILE, CHECKPOINT_FILE, PROGRESS_FILE)
"""The files that make a folder a run folder (``--out`` refuses to replace them without ``--overwrite``)."""


class ResumeError(ValueError):
    """A run folder's bookkeeping is missing, corrupt or impossible; the message names the file."""


@dataclass(frozen=True, slots=True)
class Progress:
    """Finished batches and the telemetry byte offset at that point (a resumed run truncates to it)."""

    batches_done: int = 0
    telemetry_offset: int = 0

    def __post_init__(self) -> None:
        for name in ("batches_done", "telemetry_offset"):
            check_int(f"Progress.{name}", getattr(self, name), low=0)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, source: str) -> Progress:
        """Inverse of :meth:`to_dict`; :class:`ResumeError` naming ``source`` for anything else."""
        if not isinstance(data, dict) or set(data) != {"batches_done", "telemetry_offset"}:
            got = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ResumeError(f"{source}: expected keys ['batches_done', 'telemetry_offset'], got {got}")
        try:
            return cls(batches_done=data["batches_done"], telemetry_offset=data["telemetry_offset"])
        except (TypeError, ValueError) as exc:
            raise ResumeError(f"{source}: impossible bookkeeping: {exc}") from None


class RunDir:
    """Layout and bookkeeping of one run's output folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def telemetry_path(self) -> Path:
        return self.root / TELEMETRY_FILE

    @property
    def checkpoint_path(self) -> Path:
        return self.root / CHECKPOINT_FILE

    @property
    def progress_path(self) -> Path:
        return self.root / PROGRESS_FILE

    def existing_run_files(self) -> list[Path]:
        """The :data:`RUN_FILES` present in the folder (a directory of that name counts too)."""
        return [self.root / name for name in RUN_FILES if (self.root / name).exists()]

    def prepare(self, config: TrainingConfig, *, resume: bool, overwrite: bool = False) -> Progress:
        """Create the folder and remove stale temp files.

        A fresh start refuses a folder that already holds a run unless ``overwrite`` (then its run files are
        deleted) and writes ``config.json``. On ``resume`` the stored config must equal ``config`` (only
        ``episodes`` and ``world_size`` may change) and the recorded ``progress.json`` is returned, validated but not yet applied:
        see :meth:`reconcile` and :meth:`restore`. Raises ``ValueError`` (:class:`ResumeError`) or ``OSError``.
        """
        if resume and overwrite:
            raise ValueError("resume and overwrite exclude each other: continue the run or replace it, not both")
        if self.root.exists() and not self.root.is_dir():
            raise NotADirectoryError(20, "the run folder (--out) is an existing file, not a folder", str(self.root))
        self.root.mkdir(parents=True, exist_ok=True)
        for name in RUN_FILES:
            remove_stale_temp_files(self.root / name)
        if not resume:
            existing = self.existing_run_files()
            if existing and not overwrite:
                raise ValueError(
                    f"{self.root} already holds a run ({', '.join(p.name for p in existing)}); "
                    "pass --resume (resume=True) to continue it or --overwrite (overwrite=True) to replace it"
                )
            for path in existing:  # check all first: never leave a half-deleted run behind
                if path.is_dir():
                    raise IsADirectoryError(21, "is a directory, expected a run file; remove it by hand", str(path))
            for path in existing:
                path.unlink()
            config.write(self.config_path)
            return Progress()
        if not self.config_path.exists():
            raise ResumeError(f"cannot resume: {self.config_path} does not exist (start without --resume)")
        stored = TrainingConfig.read(self.config_path)
        requested = config.to_dict()
        free = ("episodes", "world_size")  # may change on resume (a run is the same on any number of processes)
        changed = sorted(k for k, v in stored.to_dict().items() if k not in free and requested.get(k) != v)
        if changed:
            diffs = "; ".join(f"{k}: stored {stored.to_dict()[k]!r}, requested {requested.get(k)!r}" for k in changed)
            raise ResumeError(
                f"cannot resume {self.root}: {self.config_path.name} differs ({diffs}); only 'episodes' and "
                "'world_size' may change"
            )
        return self.read_progress()

    def reconcile(self, recorded: Progress, checkpointed: Progress | None, *, checkpointed_run: bool) -> Progress:
        """The progress to resume from: the checkpoint's when the run checkpoints, else ``progress.json``'s.

        ``progress.json`` may lag the checkpoint (a kill between the two writes) but never lead it; when both
        agree its later telemetry offset (which includes the ``checkpoint_saved`` event) is kept.
        """
        if not checkpointed_run:
            return recorded
        if checkpointed is None:
            if recorded.batches_done > 0:
                raise ResumeError(
                    f"cannot resume {self.root}: {PROGRESS_FILE} records {recorded.batches_done} finished batches "
                    f"but {CHECKPOINT_FILE} is missing"
                )
            return recorded
        if recorded.batches_done > checkpointed.batches_done:
            raise ResumeError(
                f"cannot resume {self.root}: {PROGRESS_FILE} records {recorded.batches_done} finished batches "
                f"but {CHECKPOINT_FILE} holds {checkpointed.batches_done}"
            )
        if recorded.batches_done == checkpointed.batches_done:
            if recorded.telemetry_offset < checkpointed.telemetry_offset:
                raise ResumeError(
                    f"cannot resume {self.root}: {PROGRESS_FILE} telemetry offset {recorded.telemetry_offset} is "
                    f"before the checkpoint's {checkpointed.telemetry_offset}"
                )
            return recorded
        return checkpointed

    def restore(self, config: TrainingConfig, progress: Progress) -> None:
        """Check ``progress`` against the folder, cut telemetry of unfinished batches, rewrite config and progress."""
        if progress.batches_done > config.batches:
            raise ResumeError(
                f"cannot resume {self.root}: {progress.batches_done} batches are finished but the run has only "
                f"{config.batches} (episodes may only grow on resume)"
            )
        telemetry = self.telemetry_path
        if not telemetry.is_file():
            if progress.batches_done > 0 or progress.telemetry_offset > 0:
                raise ResumeError(
                    f"cannot resume {self.root}: {TELEMETRY_FILE} is missing but {progress.batches_done} batches "
                    f"({progress.telemetry_offset} bytes of telemetry) are recorded as finished"
                )
        else:
            size = telemetry.stat().st_size
            if progress.telemetry_offset > size:
                raise ResumeError(
                    f"cannot resume {self.root}: {TELEMETRY_FILE} has {size} bytes, fewer than the recorded offset "
                    f"{progress.telemetry_offset} (the file was truncated or replaced)"
                )
            with telemetry.open("r+b") as fh:
                if progress.telemetry_offset > 0:
                    fh.seek(progress.telemetry_offset - 1)
                    if fh.read(1) != b"\n":
                        raise ResumeError(
                            f"cannot resume {self.root}: the recorded offset {progress.telemetry_offset} of "
                            f"{TELEMETRY_FILE} is not at the end of a line (the file was modified)"
                        )
                fh.truncate(progress.telemetry_offset)
        config.write(self.config_path)
        self.write_progress(progress)

    def read_progress(self) -> Progress:
        """``progress.json`` (``Progress()`` when absent); :class:`ResumeError` naming the file when corrupt."""
        path = self.progress_path
        if not path.exists():
            return Progress()
        try:
            data: object = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ResumeError(f"{path}: not valid JSON ({exc}); the run's bookkeeping is corrupt") from None
        return Progress.from_dict(data, str(path))

    def write_progress(self, progress: Progress) -> None:
        """Atomically record finished work (temp file + fsync + rename)."""
        atomic_write_text(self.progress_path, json.dumps(progress.to_dict()))

    def telemetry_size(self) -> int:
        return self.telemetry_path.stat().st_size if self.telemetry_path.exists() else 0


__all__ = ["CHECKPOINT_FILE", "CONFIG_FILE", "PROGRESS_FILE", "RUN_FILES", "TELEMETRY_FILE", "Progress", "ResumeError", "RunDir"]
