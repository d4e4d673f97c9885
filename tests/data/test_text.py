"""Character corpus loader on local files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from esper.data import DatasetError, load_text_corpus

TEXT = "hello world, the quick brown fox jumps over the lazy dog.\n" * 20


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "corpus.txt"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_blocks_are_shifted_text(tmp_path: Path) -> None:
    corpus = load_text_corpus(_write(tmp_path, TEXT), block_size=16, byte_budget=None, val_fraction=0.25)
    assert corpus.vocab == tuple(sorted(set(TEXT)))
    s = corpus.splits
    assert s.train_x.shape[1] == 16 and s.train_x.dtype == torch.int64
    assert torch.equal(s.train_x[:, 1:], s.train_y[:, :-1])
    assert torch.equal(s.train_x[1:, 0], s.train_y[:-1, -1])  # blocks are consecutive
    split = int(len(TEXT) * 0.75)
    assert corpus.decode(s.train_x.reshape(-1)) == TEXT[: s.train_x.numel()]
    assert corpus.decode(s.val_x.reshape(-1)) == TEXT[split : split + s.val_x.numel()]


def test_byte_budget_truncates(tmp_path: Path) -> None:
    corpus = load_text_corpus(_write(tmp_path, TEXT), block_size=8, byte_budget=200, val_fraction=0.2)
    total = corpus.splits.train_x.numel() + corpus.splits.val_x.numel()
    assert total <= 200


def test_incomplete_utf8_tail_is_dropped_not_guessed(tmp_path: Path) -> None:
    text = "aé" * 200  # 'é' is two bytes
    corpus = load_text_corpus(_write(tmp_path, text), block_size=4, byte_budget=301, val_fraction=0.2)
    assert set(corpus.vocab) == {"a", "é"}


def test_invalid_utf8_raises(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="UTF-8"):
        load_text_corpus(_write(tmp_path, b"abc\xff\xfe" * 100), block_size=4)


def test_too_small_raises(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="too few"):
        load_text_corpus(_write(tmp_path, "tiny"), block_size=64)


def test_bad_arguments(tmp_path: Path) -> None:
    path = _write(tmp_path, TEXT)
    with pytest.raises(ValueError, match="block_size"):
        load_text_corpus(path, block_size=0)
    with pytest.raises(ValueError, match="byte_budget"):
        load_text_corpus(path, byte_budget=0)
    with pytest.raises(ValueError, match="val_fraction"):
        load_text_corpus(path, val_fraction=1.0)
