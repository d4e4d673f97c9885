"""The run report (esper.nissa.report): files, headline numbers and monitoring items from a synthetic run."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from tests.rewards import synthetic_runs as demo
from esper.nissa.report import summarize, write_report

PLOTS = (
    "final_accuracy.png",
    "tempo_entropy.png",
    "head_entropies.png",
    "tempo_usage.png",
    "seed_outcomes.png",
    "params_added.png",
)


@pytest.mark.req(
    "MON.1", "MON.2", "MON.3", "MON.4", "PLAN.4", "DEC.rewards_nissa.8", "DEC.rewards_nissa.9", "DEC.rewards_nissa.10"
)
def test_report_from_multi_policy_run_folder(tmp_path: Path) -> None:
    root = demo.write_demo_runs(tmp_path / "runs" / "demo")
    out = tmp_path / "report"
    report = write_report(root, out, last_k=3)
    assert report == out / "report.md"
    for name in PLOTS:
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 2000, name
    text = report.read_text(encoding="utf-8")
    for name in PLOTS:
        assert f"]({name})" in text

    summary = summarize(root, last_k=3)
    assert list(summary) == ["ppo", "heuristic", "baseline"]
    ppo, heuristic, baseline = summary["ppo"], summary["heuristic"], summary["baseline"]
    # by hand: last three final accuracies and their sample std
    assert baseline["episodes"] == 3 and baseline["final_accuracy_mean"] == pytest.approx(72.0)
    assert baseline["final_accuracy_std"] == pytest.approx(2.0)
    assert heuristic["final_accuracy_mean"] == pytest.approx(79.0)
    assert heuristic["final_accuracy_std"] == pytest.approx(2.0)
    assert heuristic["params_added_mean"] == pytest.approx(300.0)
    assert heuristic["final_accuracy_best"] == 81.0 and heuristic["best_val_accuracy"] == 82.0
    assert (heuristic["seeds_germinated"], heuristic["seeds_fossilized"], heuristic["seeds_culled"]) == (4, 1, 2)
    assert ppo["episodes"] == 5 and ppo["last_k"] == 3
    assert ppo["final_accuracy_mean"] == pytest.approx(84.0)
    assert ppo["final_accuracy_std"] == pytest.approx(4.0)
    assert ppo["params_added_mean"] == pytest.approx(4000.0)
    assert ppo["episode_return_mean"] == pytest.approx(84.0 / 20.0)
    assert (ppo["seeds_germinated"], ppo["seeds_fossilized"], ppo["seeds_culled"]) == (5, 2, 3)
    assert ppo["ppo_updates"] == 6 and heuristic["ppo_updates"] == 0
    assert ppo["tempo_entropy_first"] == pytest.approx((1.0986 + 1.05 + 1.0) / 3)
    assert ppo["tempo_entropy_last"] == pytest.approx((0.9 + 0.8 + 0.7) / 3)
    assert heuristic["tempo_entropy_first"] is None
    assert (ppo["tempo_fast"], ppo["tempo_standard"], ppo["tempo_slow"]) == (2, 1, 2)
    assert (heuristic["tempo_fast"], heuristic["tempo_standard"], heuristic["tempo_slow"]) == (0, 4, 0)
    # the default window (20) covers every episode
    full = summarize(root)["ppo"]
    assert full["last_k"] == 5 and full["final_accuracy_mean"] == pytest.approx(statistics.fmean(demo.PPO_FINAL))

    # headline table and monitoring checks
    assert "| ppo | 5 | 84.00 ± 4.00 | 88.00 | 89.00 | 5 | 2 | 3 | 4000 |" in text
    assert "| baseline | 3 | 72.00 ± 2.00 |" in text
    assert "ln 3 = 1.0986" in text and "1.0495 → 0.8000 over 6 updates" in text and "**falls**" in text
    assert "FAST (3) 2 (40%), STANDARD (5) 1 (20%), SLOW (8) 2 (40%): **all tempos used**" in text
    assert "**unused: FAST, SLOW**" in text
    assert "ppo vs baseline: +12.00 points" in text and "heuristic vs baseline: +7.00 points" in text
    assert "REGRESSION" not in text
    # blueprint x tempo tables: germinations and fossilized seeds per policy
    assert "| blueprint | FAST (3) | STANDARD (5) | SLOW (8) | total | most used |" in text
    assert "| `conv_heavy` | 0 | 0 | 2 | 2 | SLOW |" in text
    assert "| `conv_light` | 2 | 0 | 0 | 2 | FAST |" in text
    fossilized_section = text.split("### ppo: fossilized seeds")[1].split("###")[0]
    assert "| `conv_heavy` | 0 | 0 | 1 | 1 | SLOW |" in fossilized_section
    assert "| `depthwise` | 0 | 1 | 0 | 1 | STANDARD |" in fossilized_section
    assert "| `conv_light` | 0 | 3 | 0 | 3 | STANDARD |" in text.split("### heuristic: germinations")[1]


@pytest.mark.req("DEC.rewards_nissa.11")
def test_missing_or_empty_telemetry_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        write_report(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no telemetry.jsonl found"):
        write_report(tmp_path)
    run = tmp_path / "ppo"
    run.mkdir()
    (run / "telemetry.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=r"telemetry.jsonl is empty"):
        summarize(tmp_path)
    (run / "telemetry.jsonl").write_text(
        '{"event_type": "ppo_update_completed", "data": {"update": 0}, "timestamp": 1.0}\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match="no episode_completed events for: ppo"):
        write_report(run)
    (run / "telemetry.jsonl").write_text(
        '{"event_type": "episode_completed", "data": {"final_val_accuracy": 50.0}, "timestamp": 1.0}\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"event #1 \(episode_completed\): data\['best_val_accuracy'\]"):
        summarize(run)
    assert not (run / "report.md").exists()
