"""Crash injection: run training in a forked child that dies (``os._exit``, no cleanup) at one write point.

A *write point* is one of: the temp file of an atomic write torn half-way (``torn``), complete but not renamed
(``before``), renamed but nothing after it done (``after``); or a telemetry line torn half-way (``torn``) or not
written (``before``). ``target`` names the file (``config.json``, ``checkpoint.pt``, ``progress.json``) or, for
telemetry, the event type; ``occurrence`` counts writes of that target from 1.
"""

from __future__ import annotations

import json
import os
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

import esper.nissa.jsonl as jsonl
from esper.leyline import TelemetryEvent
from esper.nissa.events import event_to_json

KILLED = 77
"""Exit status of a child that reached its kill point."""
CHILD_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class WritePoint:
    target: str
    occurrence: int
    phase: str  # "torn" | "before" | "after"

    def __str__(self) -> str:
        return f"{self.target}#{self.occurrence}:{self.phase}"


def _target_of_temp(fd: int) -> str:
    """``checkpoint.pt`` for a temp file ``.checkpoint.pt.<random>.tmp`` open as ``fd`` (Linux /proc)."""
    name = Path(os.readlink(f"/proc/self/fd/{fd}")).name
    return name[1:].rsplit(".", 2)[0]


def install(point: WritePoint) -> None:
    """Patch this (child) process so that it dies at ``point``. Never call this in the test process itself."""
    counts: dict[str, int] = {}

    def hit(target: str) -> bool:
        counts[target] = counts.get(target, 0) + 1
        return target == point.target and counts[target] == point.occurrence

    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        if point.phase == "torn" and Path(f"/proc/self/fd/{fd}").exists() and hit(_target_of_temp(fd)):
            os.ftruncate(fd, os.fstat(fd).st_size // 2)
            os._exit(KILLED)
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        target = Path(dst).name
        if point.phase == "before" and hit(target):
            os._exit(KILLED)
        real_replace(src, dst)
        if point.phase == "after" and hit(target):
            os._exit(KILLED)

    real_emit = jsonl.JsonlSink.emit

    def emit(self: jsonl.JsonlSink, event: TelemetryEvent) -> None:
        if hit(event.event_type.value):
            if point.phase == "torn":
                line = event_to_json(event) + "\n"
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line[: len(line) // 2])
            os._exit(KILLED)
        real_emit(self, event)

    os.fsync = fsync
    os.replace = replace
    jsonl.JsonlSink.emit = emit  # type: ignore[method-assign]


def run_killed(point: WritePoint, job: Callable[[], object]) -> int:
    """Run ``job`` in a forked child that dies at ``point``; returns the child's exit status."""
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 0
        try:
            torch.set_num_threads(1)
            install(point)
            job()
        except BaseException:
            traceback.print_exc()
            code = 3
        finally:
            os._exit(code)
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)  # a child stuck on a lock inherited from another thread: fail, don't hang
    os.waitpid(pid, 0)
    raise TimeoutError(f"the child killed at {point} did not finish within {CHILD_TIMEOUT_S} s")


def comparable_events(run_dir: Path) -> list[dict[str, object]]:
    """Telemetry without timestamps and checkpoint bookkeeping events (which record when, not what)."""
    rows = []
    for line in (run_dir / "telemetry.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["event_type"] in ("checkpoint_saved", "checkpoint_loaded"):
            continue
        row.pop("timestamp")
        rows.append(row)
    return rows
