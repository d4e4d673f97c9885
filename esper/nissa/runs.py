"""Finding run folders (``telemetry.jsonl`` + ``config.json``) and loading their telemetry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from esper.leyline import TelemetryEvent
from esper.nissa.jsonl import read_events

TELEMETRY_FILE = "telemetry.jsonl"
CONFIG_FILE = "config.json"
LAYOUT_HINT = (
    f"expected a run folder holding {TELEMETRY_FILE} (and {CONFIG_FILE} with a 'policy' key), "
    f"or a folder whose subfolders are such run folders (e.g. runs/demo/{{ppo,heuristic,baseline}}/)"
)


@dataclass(frozen=True, slots=True)
class RunData:
    """One run folder: its policy name and telemetry events (file order)."""

    folder: Path
    policy: str
    config: dict[str, object]
    events: tuple[TelemetryEvent, ...]


def discover_runs(run_dir: str | Path) -> list[Path]:
    """``run_dir`` itself if it holds telemetry, plus every immediate subfolder that does (sorted)."""
    root = Path(run_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"run_dir {root} is not a directory; {LAYOUT_HINT}")
    folders = [root] if (root / TELEMETRY_FILE).is_file() else []
    folders += sorted(p for p in root.iterdir() if p.is_dir() and (p / TELEMETRY_FILE).is_file())
    if not folders:
        raise FileNotFoundError(f"no {TELEMETRY_FILE} found in {root} or its subfolders; {LAYOUT_HINT}")
    return folders


def read_config(folder: Path) -> dict[str, object]:
    """``config.json`` of a run folder (``{}`` when absent)."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        raw: object = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path}: invalid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object with a 'policy' key, got {type(raw).__name__}")
    return {str(k): v for k, v in raw.items()}


def load_run(folder: Path) -> RunData:
    """Events and policy of one run folder; the policy is ``config.json``'s ``policy``, else the folder name."""
    config = read_config(folder)
    policy = config.get("policy", folder.name)
    if not isinstance(policy, str) or not policy:
        raise ValueError(f"{folder / CONFIG_FILE}: 'policy' must be a non-empty string, got {policy!r}")
    events = read_events(folder / TELEMETRY_FILE)
    if not events:
        raise ValueError(f"telemetry file {folder / TELEMETRY_FILE} is empty; nothing to report")
    return RunData(folder=folder, policy=policy, config=config, events=tuple(events))


def load_runs(run_dir: str | Path) -> list[RunData]:
    """All runs under ``run_dir`` (see :func:`discover_runs`)."""
    return [load_run(folder) for folder in discover_runs(run_dir)]


__all__ = ["CONFIG_FILE", "LAYOUT_HINT", "TELEMETRY_FILE", "RunData", "discover_runs", "load_run", "load_runs"]
