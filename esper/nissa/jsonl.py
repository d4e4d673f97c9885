"""JSON-lines telemetry: one ``event.to_dict()`` object per line."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from esper.leyline import TelemetryEvent
from esper.nissa.events import event_from_dict, event_to_json


class JsonlSink:
    """Appends each event as one JSON line to ``path`` and flushes, so a crashed run keeps its telemetry.

    ``append=True`` (default) continues an existing file (resume); ``append=False`` truncates it.
    """

    def __init__(self, path: str | Path, *, append: bool = True) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"path must be a file, got the directory {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a" if append else "w", encoding="utf-8")

    @property
    def closed(self) -> bool:
        return self._file.closed

    def emit(self, event: TelemetryEvent) -> None:
        if self._file.closed:
            raise RuntimeError(f"JsonlSink for {self.path} is closed")
        self._file.write(event_to_json(event) + "\n")
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class TornLineWarning(UserWarning):
    """The last line of a telemetry file was cut short (the writing run was killed) and was skipped."""


def read_events(path: str | Path) -> list[TelemetryEvent]:
    """Events of a JSONL file (blank lines skipped); ``ValueError`` names the file and line of a bad record.

    A last line without its newline that does not parse is what a killed run leaves behind: it is skipped
    with a :class:`TornLineWarning` (issue 13). A bad record anywhere else is an error.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"telemetry file {path} does not exist")
    events: list[TelemetryEvent] = []
    with path.open(encoding="utf-8", errors="surrogateescape") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                events.append(event_from_dict(json.loads(line)))
            except ValueError as exc:  # json.JSONDecodeError is a ValueError; so is a torn UTF-8 sequence
                if not line.endswith("\n"):  # only the file's last line can lack its newline
                    warnings.warn(
                        f"{path}:{lineno}: skipped the torn last line ({len(line)} characters, no newline): "
                        "the run that wrote it was interrupted",
                        TornLineWarning,
                        stacklevel=2,
                    )
                    break
                raise ValueError(f"{path}:{lineno}: bad telemetry record: {exc}") from None
    return events


__all__ = ["JsonlSink", "TornLineWarning", "read_events"]
