"""The implementation under test: where ``esper`` is imported from, its adapter and its known failures.

Environment (the model is array-api-tests' ``ARRAY_API_TESTS_MODULE``):

* ``ESPER_CONFORMANCE_TARGET=DIR``: ``DIR`` goes first on ``sys.path`` so that ``import esper`` resolves to the
  implementation under test (default: this repository).
* ``ESPER_CONFORMANCE_ADAPTER=module:object``: the target's :class:`conformance.adapter.ConformanceAdapter`
  (default: :data:`DEFAULT_ADAPTER`, the adapter the kit ships for this package).
* ``ESPER_CONFORMANCE_KNOWN_FAILURES=FILE``: the target's known failures (default: ``DIR/conformance-known-failures.toml``
  when it exists). Format::

      [[known]]
      id = "T13.2"
      reason = "tempo feature not wired yet (issue 42)"

  A test tagged with a listed requirement is run as ``xfail`` and reported as *known*, never as a pass.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

KIT_ROOT = Path(__file__).resolve().parent.parent
TARGET_ENV = "ESPER_CONFORMANCE_TARGET"
ADAPTER_ENV = "ESPER_CONFORMANCE_ADAPTER"
KNOWN_ENV = "ESPER_CONFORMANCE_KNOWN_FAILURES"
KNOWN_FILE_NAME = "conformance-known-failures.toml"
DEFAULT_ADAPTER = "conformance.adapters.reference:ADAPTER"


class TargetError(RuntimeError):
    """The target, its adapter or its known-failures file is unusable (the message says which and why)."""


@dataclass(frozen=True)
class Target:
    """Where the implementation under test lives and what is known about it."""

    path: Path
    version: str
    revision: str
    adapter_spec: str
    known: dict[str, str] = field(default_factory=dict)
    """Known failures: requirement ID -> reason."""
    known_file: Path | None = None

    def header(self) -> str:
        """One line per fact, for the pytest header and the kit report."""
        known = f"{self.known_file} ({len(self.known)} requirement(s))" if self.known_file else "none"
        return (
            f"conformance target: {self.path}\n"
            f"  version: {self.version}, git revision: {self.revision}\n"
            f"  adapter: {self.adapter_spec}\n"
            f"  known failures: {known}"
        )


def target_dir() -> Path:
    """``$ESPER_CONFORMANCE_TARGET`` (resolved), else this repository."""
    raw = os.environ.get(TARGET_ENV, "").strip()
    if not raw:
        return KIT_ROOT
    path = Path(raw).expanduser().resolve()
    if not path.is_dir():
        raise TargetError(f"{TARGET_ENV}={raw!r} is not a directory")
    return path


def _version(path: Path) -> str:
    pyproject = path / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except tomllib.TOMLDecodeError:
            project = {}
        version = project.get("version") if isinstance(project, dict) else None
        if isinstance(version, str):
            return version
    return "unknown"


def _revision(path: Path) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return "none (git unavailable)"
    lines = proc.stdout.split()
    if proc.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != path:
        return "none (not a git checkout)"
    dirty = subprocess.run(
        ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    ).stdout.strip()
    return lines[1][:12] + (" (with uncommitted changes)" if dirty else "")


def read_known_failures(path: Path) -> dict[str, str]:
    """``{requirement ID: reason}`` from a known-failures TOML file (see the module docstring)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TargetError(f"known-failures file {path}: {exc}") from None
    entries = data.get("known", [])
    if not isinstance(entries, list):
        raise TargetError(f"known-failures file {path}: 'known' must be an array of tables")
    known: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("reason"), str):
            raise TargetError(f"known-failures file {path}: every [[known]] needs string keys 'id' and 'reason', got {entry!r}")
        if not entry["reason"].strip():
            raise TargetError(f"known-failures file {path}: {entry['id']} needs a non-empty reason")
        known[entry["id"]] = entry["reason"]
    return known


def describe() -> Target:
    """The target as configured by the environment (reads files, imports nothing)."""
    path = target_dir()
    raw_known = os.environ.get(KNOWN_ENV, "").strip()
    candidate = Path(raw_known).resolve() if raw_known else path / KNOWN_FILE_NAME
    if raw_known and not candidate.is_file():
        raise TargetError(f"{KNOWN_ENV}={raw_known!r} does not exist")
    known_file = candidate if candidate.is_file() else None
    known = read_known_failures(known_file) if known_file else {}
    adapter = os.environ.get(ADAPTER_ENV, "").strip() or DEFAULT_ADAPTER
    return Target(path, _version(path), _revision(path), adapter, known, known_file)


def activate(target: Target) -> ModuleType:
    """Put the target first on ``sys.path`` and import its ``esper`` (pinning it in ``sys.modules``).

    Raises :class:`TargetError` when ``esper`` was already imported from elsewhere or cannot be imported.
    """
    root = str(target.path)
    already = sys.modules.get("esper")
    if already is not None:
        where = Path(getattr(already, "__file__", "") or "").resolve()
        if target.path not in where.parents:
            raise TargetError(f"esper was already imported from {where}, not from the target {target.path}")
        return already
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    try:
        esper = importlib.import_module("esper")
    except ImportError as exc:
        raise TargetError(f"the target {target.path} has no importable 'esper' package: {exc}") from None
    where = Path(getattr(esper, "__file__", "") or "").resolve()
    if target.path not in where.parents:
        raise TargetError(f"'import esper' resolved to {where}, outside the target {target.path}")
    return esper
