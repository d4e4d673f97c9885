"""Simic agent tests run single-threaded: the tiny recurrent network is much slower with intra-op threads
competing with pytest-xdist workers. The previous thread count is restored after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
