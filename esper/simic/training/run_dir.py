"""A run folder: config.json, telemetry.jsonl, checkpoint.pt and progress.json (resume bookkeeping)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from esper.simic.training.config import TrainingConfig


@dataclass(frozen=True, slots=True)
class Progress:
    """Finished batches and the telemetry byte offset at that point (a resumed run truncates to it)."""

    batches_done: int = 0
    telemetry_offset: int = 0


class RunDir:
    """Layout of one run's output folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    @property
    def telemetry_path(self) -> Path:
        return self.root / "telemetry.jsonl"

    @property
    def checkpoint_path(self) -> Path:
        return self.root / "checkpoint.pt"

    @property
    def progress_path(self) -> Path:
        return self.root / "progress.json"

    def prepare(self, config: TrainingConfig, *, resume: bool) -> Progress:
        """Create the folder; on resume check the stored config matches and cut telemetry of unfinished batches."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not resume:
            for path in (self.telemetry_path, self.checkpoint_path, self.progress_path):
                path.unlink(missing_ok=True)
            config.write(self.config_path)
            return Progress()
        if not self.config_path.exists():
            raise FileNotFoundError(f"cannot resume: {self.config_path} does not exist (start without --resume)")
        stored = TrainingConfig.read(self.config_path)
        free = {"episodes": 0, "world_size": 0}  # may change on resume
        if stored.to_dict() | free != config.to_dict() | free:
            raise ValueError(
                f"cannot resume {self.root}: stored config {stored.to_dict()} differs from requested {config.to_dict()} "
                "(only 'episodes' and 'world_size' may change on resume)"
            )
        config.write(self.config_path)
        progress = self.read_progress()
        if self.telemetry_path.exists():
            with self.telemetry_path.open("r+b") as fh:
                fh.truncate(progress.telemetry_offset)
        return progress

    def read_progress(self) -> Progress:
        if not self.progress_path.exists():
            return Progress()
        data = json.loads(self.progress_path.read_text())
        return Progress(batches_done=int(data["batches_done"]), telemetry_offset=int(data["telemetry_offset"]))

    def write_progress(self, progress: Progress) -> None:
        """Atomically record finished work (temp file + rename)."""
        tmp = self.progress_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"batches_done": progress.batches_done, "telemetry_offset": progress.telemetry_offset}))
        os.replace(tmp, self.progress_path)

    def telemetry_size(self) -> int:
        return self.telemetry_path.stat().st_size if self.telemetry_path.exists() else 0
