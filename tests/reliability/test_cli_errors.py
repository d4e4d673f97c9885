"""CLI (issue 13 item 7): every OSError and bad value is one clear 'esper: error:' line and exit 2."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
import torch

from esper.cli import main

TINY = ["--preset", "smoke", "--episodes", "2", "--n-envs", "1", "--max-epochs", "1", "--no-progress"]


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("esper: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("cli") / "ppo"
    assert main(["train", "ppo", "--out", str(run), *TINY]) == 0
    return run


def _copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / "run"))


@pytest.mark.req("ISSUE.13.30", "DEC.reliability.8")
def test_out_is_a_file_or_under_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    _fails(["train", "baseline", "--out", str(file), *TINY], capsys, str(file), "is an existing file")
    _fails(["train", "baseline", "--out", str(file / "run"), *TINY], capsys, str(file / "run"), "Not a directory")
    assert file.read_text() == "x"


@pytest.mark.req("ISSUE.13.30", "DEC.reliability.8")
def test_read_only_file_system(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import esper.simic.atomic as atomic

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "run" / "config.json"))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    _fails(["train", "baseline", "--out", str(tmp_path / "run"), *TINY], capsys, "config.json", "Read-only file system")


@pytest.mark.req("ISSUE.13.30", "ISSUE.13.2", "DEC.reliability.8")
def test_full_disk_while_writing_the_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import esper.simic.agent.checkpoint as checkpoint

    real_save = torch.save

    def full(obj: object, handle: object) -> None:
        real_save(obj, handle)  # type: ignore[arg-type]
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint.torch, "save", full)
    run = tmp_path / "run"
    _fails(["train", "ppo", "--out", str(run), *TINY], capsys, f"{run / 'checkpoint.pt'}: No space left on device")
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "telemetry.jsonl"]  # no temp file, no checkpoint


@pytest.mark.req("ISSUE.13.30", "DEC.reliability.8")
def test_checkpoint_is_a_directory(ppo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(ppo_run, tmp_path)
    (run / "checkpoint.pt").unlink()
    (run / "checkpoint.pt").mkdir()
    _fails(["train", "ppo", "--out", str(run), "--resume", *TINY], capsys, str(run / "checkpoint.pt"), "is a directory")
    before = sorted(p.name for p in run.iterdir())
    _fails(["train", "ppo", "--out", str(run), "--overwrite", *TINY], capsys, str(run / "checkpoint.pt"), "is a directory")
    assert sorted(p.name for p in run.iterdir()) == before  # nothing deleted half-way


@pytest.mark.req("ISSUE.13.31", "DEC.reliability.7")
@pytest.mark.parametrize(
    ("flags", "needles"),
    [
        (["--device", "bogus"], ["device 'bogus' is not a device"]),
        (["--device", "meta"], ["device 'meta' is not supported"]),
        (["--seed", str(2**63)], ["seed must be an int in [0, 4294967295]", str(2**63)]),
        (["--seed", "-1"], ["seed must be an int in"]),
        (["--threads", "0"], ["threads must be an int >= 1"]),
        (["--task", "text", "--data-dir", "."], ["is a directory; data_dir must name a UTF-8 text file"]),
    ],
    ids=["device-bogus", "device-meta", "seed-2**63", "seed-negative", "threads-0", "text-data-dir-is-a-directory"],
)
def test_bad_values(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], needles: list[str]) -> None:
    _fails(["train", "ppo", "--out", str(tmp_path / "run"), *TINY, *flags], capsys, *needles)


@pytest.mark.req("ISSUE.13.31", "ISSUE.13.4")
@pytest.mark.parametrize("name", ["progress.json", "config.json"])
def test_corrupt_bookkeeping_is_named(ppo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    run = _copy(ppo_run, tmp_path)
    (run / name).write_text('{"batches_done": 1,')
    _fails(["train", "ppo", "--out", str(run), "--resume", *TINY], capsys, str(run / name), "not valid JSON")


@pytest.mark.req("ISSUE.13.5", "ISSUE.13.7")
def test_existing_run_and_thread_change_are_refused(ppo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(ppo_run, tmp_path)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    _fails(["train", "baseline", "--out", str(run), *TINY], capsys, "already holds a run", "--overwrite")
    _fails(["train", "ppo", "--out", str(run), "--resume", "--threads", "2", *TINY], capsys, "threads: stored 1, requested 2")
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    assert main(["train", "baseline", "--out", str(run), "--overwrite", *TINY]) == 0
    assert not (run / "checkpoint.pt").exists()


@pytest.mark.req("ISSUE.13.6")
def test_report_on_a_crashed_run_warns_about_the_torn_line(ppo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(ppo_run, tmp_path)
    with (run / "telemetry.jsonl").open("a") as fh:
        fh.write('{"event_type": "epoch_compl')
    capsys.readouterr()
    assert main(["report", str(run)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("esper: warning: ") and "skipped the torn last line" in err and "Traceback" not in err
    assert (run / "report.md").exists()
