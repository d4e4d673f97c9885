"""The CLI: train / report / demo, `python -m esper`, and clear argument errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from esper.cli import main

from tests.training.loop_helpers import events


@pytest.mark.req("ISSUE.6.4", "DEC.training.8")
def test_demo_writes_three_runs_and_a_report(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    code = main(["demo", "--preset", "smoke", "--out", str(out), "--baseline-episodes", "2", "--no-progress"])
    assert code == 0
    for policy in ("ppo", "heuristic", "baseline"):
        run = out / policy
        assert json.loads((run / "config.json").read_text())["policy"] == policy
        assert len(events(run, "episode_completed")) == 2
        assert (run / "progress.json").exists()
    assert (out / "ppo" / "checkpoint.pt").exists()
    report = (out / "report.md").read_text()
    for policy in ("ppo", "heuristic", "baseline"):
        assert policy in report
    pngs = sorted(out.glob("*.png"))
    assert pngs and all(p.stat().st_size > 0 for p in pngs)


@pytest.mark.req("ISSUE.6.4")
def test_train_then_report_a_single_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", "baseline", "--preset", "smoke", "--out", str(run), "--no-progress"]) == 0
    assert main(["report", str(run)]) == 0
    assert (run / "report.md").exists()


@pytest.mark.req("ISSUE.6.4")
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "ppo", "--out", "x", "--force-tempo", "BOGUS"], "--force-tempo"),
        (["train", "ppo", "--out", "x", "--preset", "nope"], "--preset"),
        (["train", "sideways", "--out", "x"], "policy"),
    ],
)
def test_bad_choices_exit_2_naming_the_argument(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert needle in capsys.readouterr().err


@pytest.mark.req("ISSUE.6.4")
def test_bad_values_exit_2_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "ppo", "--preset", "smoke", "--out", str(tmp_path), "--episodes", "-1"]) == 2
    assert "episodes" in capsys.readouterr().err
    assert main(["train", "ppo", "--preset", "smoke", "--out", str(tmp_path / "r"), "--resume"]) == 2
    assert "cannot resume" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing")]) == 2


@pytest.mark.req("ISSUE.6.4")
def test_python_dash_m_esper_is_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "esper", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "train" in done.stdout and "report" in done.stdout and "demo" in done.stdout


@pytest.mark.req("DEC.training.7")
def test_cli_uses_one_thread_by_default(tmp_path: Path) -> None:
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert main(["train", "baseline", "--preset", "smoke", "--out", str(tmp_path / "a"), "--no-progress"]) == 0
        assert torch.get_num_threads() == 1
        assert main(["train", "baseline", "--preset", "smoke", "--out", str(tmp_path / "b"), "--threads", "0"]) == 2
    finally:
        torch.set_num_threads(previous)


@pytest.mark.req("ISSUE.6.4")
def test_tensorboard_flag_without_the_extra_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    if importlib.util.find_spec("tensorboard") is not None:
        pytest.skip("tensorboard is installed here; this test covers the missing-extra path")
    argv = ["train", "baseline", "--preset", "smoke", "--out", str(tmp_path), "--tensorboard", "--no-progress"]
    assert main(argv) == 2
    assert "esper[tensorboard]" in capsys.readouterr().err


@pytest.mark.req("ISSUE.6.4")
def test_tensorboard_flag_logs_ppo_and_episode_scalars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import esper.nissa.tensorboard as tb

    written: list[tuple[str, str, float, int]] = []

    class FakeWriter:
        def __init__(self, log_dir: str) -> None:
            self.log_dir = log_dir

        def add_scalar(self, tag: str, scalar_value: float, global_step: int) -> None:
            written.append((self.log_dir, tag, scalar_value, global_step))

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setattr(tb, "summary_writer_factory", lambda: FakeWriter)
    argv = ["train", "ppo", "--preset", "smoke", "--out", str(tmp_path), "--tensorboard", "--no-progress"]
    assert main(argv) == 0
    tags = {tag for _, tag, _, _ in written}
    assert "ppo/entropy_tempo" in tags and "episode/ppo/final_val_accuracy" in tags
    assert {d for d, _, _, _ in written} == {str(tmp_path / "tensorboard")}
