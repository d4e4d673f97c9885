"""Crash-safe file writes: a temp file in the target's folder, fsync, ``os.replace``; stale temp files removed.

A reader sees either the old file or the complete new one, never a torn one. A process killed between the temp
write and the rename leaves ``.<name>.<random>.tmp`` behind; :func:`remove_stale_temp_files` deletes those
(run folders call it on every start and resume). Issue 13, ``DEC.reliability.2``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"
_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK
"""Mode of written files: what ``open(path, "w")`` would give (``mkstemp`` alone makes them private, 0600)."""


def temp_prefix(target: Path) -> str:
    """Name prefix of the temp files written for ``target`` (``.checkpoint.pt.`` for ``checkpoint.pt``)."""
    return f".{target.name}."


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a temp file next to ``path``, fsync it and rename it over ``path``.

    The temp file is removed when ``write``, the fsync or the rename raises (the error propagates: an
    ``OSError`` such as ``ENOSPC`` stays an ``OSError``, given ``path`` as its filename when it named none).
    Returns ``Path(path)``.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(21, "is a directory, expected a file path", str(target))
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except OSError as exc:
        if exc.filename is None and exc.errno is not None:  # e.g. ENOSPC from write(): say which file
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write` of ``text`` encoded as UTF-8."""
    data = text.encode("utf-8")

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return atomic_write(path, write)


def remove_stale_temp_files(target: str | os.PathLike[str]) -> list[Path]:
    """Delete the temp files a killed :func:`atomic_write` of ``target`` left behind; returns what was removed."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    removed = []
    for stale in sorted(target.parent.glob(f"{temp_prefix(target)}*{TEMP_SUFFIX}")):
        if stale.is_file():
            stale.unlink(missing_ok=True)
            removed.append(stale)
    return removed


__all__ = ["TEMP_SUFFIX", "atomic_write", "atomic_write_text", "remove_stale_temp_files", "temp_prefix"]
