"""Our PPO update vs sb3-contrib's RecurrentPPO.train() on the same shapes, alternating worker processes (issue 12).

Needs the optional ``bench`` extra; skipped without it. The smoke run (``--benchmark-disable``, the test gate) does
one round of the smallest shape.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.common import (
    UPDATE_SHAPES,
    UpdateShape,
    bench_device,
    bench_threads,
    device_name,
    is_smoke,
    pedantic,
    report,
)
from benchmarks.sidebyside import SideBySide, format_row, sb3_available

pytestmark = [
    pytest.mark.req("ISSUE.12.3"),
    pytest.mark.skipif(not sb3_available(), reason="needs the optional 'bench' extra (sb3-contrib)"),
]


@pytest.mark.parametrize("shape", UPDATE_SHAPES, ids=[s.id for s in UPDATE_SHAPES])
def test_update_vs_sb3_contrib(benchmark: BenchmarkFixture, shape: UpdateShape) -> None:
    """Timed: one round (one update on each side). extra_info: both medians, samples/s and ``ratio`` = theirs/ours."""
    if is_smoke(benchmark) and shape != UPDATE_SHAPES[0]:
        pytest.skip("smoke run: the smallest shape only")
    session = SideBySide(shape, device=str(bench_device()), threads=bench_threads())
    try:
        rounds = 1 if is_smoke(benchmark) else (5 if shape.envs * shape.steps > 1000 else 9)
        pedantic(benchmark, session.round, rounds=rounds)
    finally:
        session.close()
    summary = session.summary()
    benchmark.extra_info.update(summary)
    benchmark.extra_info.update(threads=bench_threads(), device=device_name(bench_device()), samples=shape.samples)
    assert float(summary["ours_median_s"]) > 0 and float(summary["sb3_median_s"]) > 0
    report(benchmark, "ratio", float(summary["ratio"]), "vs sb3-contrib RecurrentPPO: " + format_row(summary).strip())
