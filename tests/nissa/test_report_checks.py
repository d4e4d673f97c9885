"""Unit tests of the report's monitoring verdicts and its no-data placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest

from esper.nissa.plots import _rolling_mean, write_plots
from esper.nissa.records import EpisodeRecord, PolicyData, UpdateRecord
from esper.nissa.report import render_report, write_report


def _policy(policy: str, finals: list[float], folder: Path) -> PolicyData:
    data = PolicyData(label=policy, policy=policy, folder=folder)
    data.episodes = [EpisodeRecord(a, a, 0.0, 0, 0, 0, 0.0) for a in finals]
    return data


def test_regression_verdict_and_missing_sections(tmp_path: Path) -> None:
    ppo = _policy("ppo", [60.0, 61.0, 62.0], tmp_path)
    baseline = _policy("baseline", [70.0, 71.0, 72.0], tmp_path)
    text = render_report([ppo, baseline], tmp_path, {}, last_k=3)
    assert "ppo vs baseline: -10.00 points (± 0.82 s.e.)" in text and "**REGRESSION**" in text
    assert "no PPO updates in the telemetry" in text
    alone = render_report([ppo], tmp_path, {}, last_k=3)
    assert "no `baseline` run in this report" in alone


def test_plots_without_data_are_still_written(tmp_path: Path) -> None:
    paths = write_plots([_policy("baseline", [70.0], tmp_path)], tmp_path / "plots")
    assert len(paths) == 6 and all(p.stat().st_size > 1000 for p in paths.values())


def test_rolling_mean_and_last_k_validation(tmp_path: Path) -> None:
    assert _rolling_mean([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    with pytest.raises(ValueError, match="last_k must be >= 1"):
        write_report(tmp_path, last_k=0)


@pytest.mark.parametrize(
    ("entropies", "verdict"),
    [
        ([1.0972, 1.0967], "**flat (change under 0.01 nats: too few updates to tell)**"),
        ([1.0972, 1.0500], "**falls**"),
        ([0.9000, 1.0500], "**rises**"),
    ],
)
def test_tempo_entropy_verdict_needs_a_real_change(tmp_path: Path, entropies: list[float], verdict: str) -> None:
    ppo = _policy("ppo", [50.0, 51.0], tmp_path)
    ppo.updates = [UpdateRecord(i, {"entropy_tempo": e}) for i, e in enumerate(entropies)]
    text = render_report([ppo], tmp_path, {}, last_k=2)
    assert verdict in text
