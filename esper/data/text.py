"""Character-level text corpus for the transformer host (local text only, never downloaded).

The default corpus is a deterministic slice of this interpreter's standard-library sources: the ``*.py``
files directly inside ``sysconfig.get_paths()["stdlib"]``, in sorted order, concatenated and cut at a fixed
byte budget. A local UTF-8 text file can be used instead.
"""

from __future__ import annotations

import codecs
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import torch

from esper.data.errors import DatasetError
from esper.data.splits import SplitTensors

DEFAULT_TEXT_BYTE_BUDGET = 200_000
DEFAULT_BLOCK_SIZE = 64
DEFAULT_TEXT_VAL_FRACTION = 0.1


@dataclass(frozen=True, slots=True)
class CharCorpus:
    """Next-character blocks: ``x[i, t]`` is a character id and ``y[i, t]`` the id that follows it."""

    vocab: tuple[str, ...]
    splits: SplitTensors
    source: str
    """Where the text came from (a file path, or the stdlib folder and file count)."""

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def block_size(self) -> int:
        return int(self.splits.train_x.shape[1])

    def decode(self, ids: torch.Tensor) -> str:
        """Characters of a 1-D id tensor."""
        return "".join(self.vocab[i] for i in ids.tolist())


def _decode_prefix(data: bytes, origin: str) -> str:
    """Strict UTF-8 decode that drops only an incomplete final character (cut by the byte budget)."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"text corpus: {origin} is not valid UTF-8 ({exc})") from exc


def stdlib_source_files() -> list[Path]:
    """Sorted ``*.py`` files directly inside the standard-library folder."""
    root = Path(sysconfig.get_paths()["stdlib"])
    if not root.is_dir():
        raise DatasetError(f"text corpus: standard-library folder {root} does not exist")
    files = sorted(p for p in root.iterdir() if p.suffix == ".py" and p.is_file())
    if not files:
        raise DatasetError(f"text corpus: standard-library folder {root} holds no *.py files")
    return files


def _read_stdlib(byte_budget: int | None) -> tuple[str, str]:
    chunks: list[bytes] = []
    total = 0
    files = stdlib_source_files()
    used = 0
    for path in files:
        if byte_budget is not None and total >= byte_budget:
            break
        data = path.read_bytes()
        chunks.append(data)
        total += len(data)
        used += 1
    raw = b"".join(chunks)
    if byte_budget is not None:
        raw = raw[:byte_budget]
    return _decode_prefix(raw, f"stdlib sources under {files[0].parent}"), f"stdlib:{files[0].parent} ({used} files)"


def _read_file(path: Path, byte_budget: int | None) -> tuple[str, str]:
    if path.is_dir():
        raise DatasetError(f"text corpus: {str(path)!r} is a directory; data_dir must name a UTF-8 text file")
    if not path.is_file():
        raise DatasetError(f"text corpus: file {str(path)!r} does not exist (nothing is downloaded)")
    raw = path.read_bytes()
    if byte_budget is not None:
        raw = raw[:byte_budget]
    return _decode_prefix(raw, str(path)), str(path)


def _blocks(ids: torch.Tensor, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = (ids.numel() - 1) // block_size
    x = ids[: n * block_size].reshape(n, block_size)
    y = ids[1 : n * block_size + 1].reshape(n, block_size)
    return x, y


def load_text_corpus(
    path: str | Path | None = None,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    byte_budget: int | None = DEFAULT_TEXT_BYTE_BUDGET,
    val_fraction: float = DEFAULT_TEXT_VAL_FRACTION,
    device: str | torch.device = "cpu",
) -> CharCorpus:
    """Load text, build the sorted character vocabulary and cut it into non-overlapping blocks.

    The first ``1 - val_fraction`` of the characters form the train split and the rest the validation split
    (split by position, no shuffling). ``path=None`` uses the stdlib slice.
    """
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    if byte_budget is not None and byte_budget < 1:
        raise ValueError(f"byte_budget must be >= 1 or None, got {byte_budget}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    text, source = _read_stdlib(byte_budget) if path is None else _read_file(Path(path), byte_budget)
    vocab = tuple(sorted(set(text)))
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = torch.tensor([index[ch] for ch in text], dtype=torch.int64)
    split = int(ids.numel() * (1.0 - val_fraction))
    train_x, train_y = _blocks(ids[:split], block_size)
    val_x, val_y = _blocks(ids[split:], block_size)
    if train_x.shape[0] == 0 or val_x.shape[0] == 0:
        raise DatasetError(
            f"text corpus: {source} has {ids.numel()} characters, too few for one train and one validation "
            f"block of block_size={block_size} with val_fraction={val_fraction}"
        )
    splits = SplitTensors(train_x=train_x.to(device), train_y=train_y.to(device), val_x=val_x.to(device), val_y=val_y.to(device))
    return CharCorpus(vocab=vocab, splits=splits, source=source)


__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_TEXT_BYTE_BUDGET",
    "DEFAULT_TEXT_VAL_FRACTION",
    "CharCorpus",
    "load_text_corpus",
    "stdlib_source_files",
]
