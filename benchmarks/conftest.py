"""Benchmark session set-up: torch threads from ``ESPER_BENCH_THREADS`` (default 1), and the side-by-side ratios
printed at the end of ``make bench``."""

from __future__ import annotations

import pytest
import torch

from benchmarks.common import RATIOS, bench_threads


@pytest.fixture(autouse=True)
def _bench_threads() -> object:
    previous = torch.get_num_threads()
    torch.set_num_threads(bench_threads())
    yield
    torch.set_num_threads(previous)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RATIOS:
        terminalreporter.write_sep("=", "issue 12 summary: medians and ratios measured side by side in this run")
        for line in RATIOS:
            terminalreporter.write_line(line)
