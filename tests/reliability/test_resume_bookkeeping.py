"""Resume and bookkeeping can't lie (issue 13 item 1): impossible bookkeeping, overwrite, early events, threads."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from esper.leyline import TelemetryEvent, TelemetryEventType
from esper.nissa.hub import TelemetryHub
from esper.nissa.jsonl import TornLineWarning, read_events
from esper.nissa.memory import MemorySink
from esper.simic.atomic import atomic_write, atomic_write_text, remove_stale_temp_files
from esper.simic.training import TrainingConfig, run_training
from esper.simic.training.run_dir import Progress, ResumeError, RunDir

PPO = TrainingConfig(
    policy="ppo", episodes=2, n_envs=1, max_epochs=1, ppo_epochs=1, n_minibatches=1, seed=2, hidden_dim=16
)
BASELINE = TrainingConfig(policy="baseline", episodes=2, n_envs=1, max_epochs=1, n_minibatches=1, seed=2)


def _rows(run: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (run / "telemetry.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def one_batch_ppo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PPO run folder interrupted after its first of two batches."""
    run = tmp_path_factory.mktemp("ppo") / "run"
    run_training(PPO, run, stop_after_batches=1)
    return run


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for path in src.iterdir():
        (dst / path.name).write_bytes(path.read_bytes())
    return dst


@pytest.mark.req("ISSUE.13.1", "DEC.reliability.1")
def test_checkpoint_carries_progress_and_progress_json_agrees(one_batch_ppo: Path) -> None:
    extra = torch.load(one_batch_ppo / "checkpoint.pt", weights_only=True)["extra"]
    recorded = json.loads((one_batch_ppo / "progress.json").read_text())
    assert extra["batches_done"] == recorded["batches_done"] == 1
    # The checkpoint's offset ends the batch; progress.json's also holds the checkpoint_saved line after it.
    lines = (one_batch_ppo / "telemetry.jsonl").read_bytes()
    assert lines[: extra["telemetry_offset"]].endswith(b"\n")
    assert json.loads(lines[extra["telemetry_offset"] :])["event_type"] == "checkpoint_saved"
    assert recorded["telemetry_offset"] == len(lines)


@pytest.mark.req("ISSUE.13.4")
@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda run: (run / "progress.json").write_text('{"batches_done": -3, "telemetry_offset": 0}'), "batches_done must be an int >= 0"),
        (lambda run: (run / "progress.json").write_text('{"batches_done": 1.5, "telemetry_offset": 0}'), "batches_done must be an int"),
        (lambda run: (run / "progress.json").write_text('{"batches_done": 1'), r"progress.json: not valid JSON"),
        (lambda run: (run / "progress.json").write_text('{"batches": 1}'), r"progress.json: expected keys"),
        (lambda run: (run / "progress.json").write_text('{"batches_done": 2, "telemetry_offset": 10}'), "records 2 finished batches but checkpoint.pt holds 1"),
        (lambda run: (run / "progress.json").write_text('{"batches_done": 1, "telemetry_offset": 100000000}'), "fewer than the recorded offset 100000000"),
        (lambda run: (run / "progress.json").write_text('{"batches_done": 1, "telemetry_offset": 10}'), "telemetry offset 10 is before the checkpoint's"),
        (lambda run: (run / "telemetry.jsonl").unlink(), "telemetry.jsonl is missing"),
        (lambda run: (run / "checkpoint.pt").unlink(), "checkpoint.pt is missing"),
        (lambda run: (run / "config.json").write_text("{not json"), r"config.json: not valid JSON"),
        (lambda run: (run / "config.json").write_text('{"policy": "ppo", "seed": "x"}'), r"config.json: invalid config"),
    ],
    ids=["negative", "float", "torn-json", "keys", "ahead-of-checkpoint", "offset-past-end", "offset-before-checkpoint",
         "telemetry-deleted", "checkpoint-deleted", "config-corrupt", "config-invalid"],
)
def test_resume_refuses_impossible_bookkeeping(one_batch_ppo: Path, tmp_path: Path, damage: object, needle: str) -> None:
    run = _copy(one_batch_ppo, tmp_path / "run")
    damage(run)  # type: ignore[operator]
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(ValueError, match=needle):
        run_training(PPO, run, resume=True)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # refused before touching anything


@pytest.mark.req("ISSUE.13.4")
def test_rule_based_resume_refuses_offsets_off_a_line_end_or_past_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_training(BASELINE, run, stop_after_batches=1)
    offset = json.loads((run / "progress.json").read_text())["telemetry_offset"]
    RunDir(run).write_progress(Progress(1, offset - 1))
    with pytest.raises(ResumeError, match="is not at the end of a line"):
        run_training(BASELINE, run, resume=True)
    RunDir(run).write_progress(Progress(5, offset))
    with pytest.raises(ResumeError, match="5 batches are finished but the run has only 2"):
        run_training(BASELINE, run, resume=True)
    RunDir(run).write_progress(Progress(1, offset))
    assert len(run_training(BASELINE, run, resume=True).final_accuracies) == 1


@pytest.mark.req("ISSUE.13.4")
def test_progress_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="Progress.batches_done must be an int >= 0, got -3"):
        Progress(batches_done=-3)
    with pytest.raises(TypeError, match="Progress.telemetry_offset must be an int"):
        Progress(telemetry_offset=True)


@pytest.mark.req("ISSUE.13.5", "DEC.reliability.6")
def test_an_existing_run_is_refused_without_resume_or_overwrite(one_batch_ppo: Path, tmp_path: Path) -> None:
    run = _copy(one_batch_ppo, tmp_path / "run")
    (run / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(ValueError, match="already holds a run .*--resume.*--overwrite"):
        run_training(BASELINE, run)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    with pytest.raises(ValueError, match="resume and overwrite exclude each other"):
        run_training(BASELINE, run, resume=True, overwrite=True)
    run_training(BASELINE, run, overwrite=True)
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "notes.txt", "progress.json", "telemetry.jsonl"]
    assert json.loads((run / "config.json").read_text())["policy"] == "baseline"


@pytest.mark.req("ISSUE.13.3", "DEC.reliability.3")
def test_checkpoint_loaded_event_reaches_the_telemetry_file(one_batch_ppo: Path, tmp_path: Path) -> None:
    run = _copy(one_batch_ppo, tmp_path / "run")
    run_training(PPO, run, resume=True)
    types = [row["event_type"] for row in _rows(run)]
    loaded = [row for row in _rows(run) if row["event_type"] == "checkpoint_loaded"]
    assert len(loaded) == 1 and loaded[0]["data"]["batches_done"] == 1
    assert loaded[0]["data"]["progress_source"] == "progress.json"
    assert types.index("checkpoint_loaded") == types.index("checkpoint_saved") + 1  # right after batch 1's record


@pytest.mark.req("ISSUE.13.3", "DEC.reliability.3")
def test_hub_holds_events_until_sinks_are_attached() -> None:
    hub = TelemetryHub()
    early = [TelemetryEvent(event_type=TelemetryEventType.CHECKPOINT_LOADED, data={"n": i}) for i in range(2)]
    for event in early:
        hub.emit(event)
    first, second = MemorySink(), MemorySink()
    hub.add_sink(first)
    hub.add_sink(second)  # attached before the next delivery: gets the held events too
    late = TelemetryEvent(event_type=TelemetryEventType.CHECKPOINT_SAVED, data={})
    hub.emit(late)
    assert first.events == second.events == [*early, late]
    third = MemorySink()
    hub.add_sink(third)
    assert third.events == [] and hub.pending == ()
    lonely = TelemetryHub()
    lonely.emit(late)
    with pytest.warns(RuntimeWarning, match="1 event"):
        lonely.close()


@pytest.mark.req("ISSUE.13.2", "DEC.reliability.2")
def test_atomic_write_leaves_no_temp_file_on_error_and_stale_ones_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.pt"
    atomic_write_text(target, "old")

    def full_disk(handle: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, full_disk)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"] and target.read_text() == "old"
    stale = tmp_path / ".checkpoint.pt.abc123.tmp"
    stale.write_text("torn")
    (tmp_path / ".other.abc.tmp").write_text("not ours")
    assert remove_stale_temp_files(target) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.abc.tmp", "checkpoint.pt"]


@pytest.mark.req("ISSUE.13.2", "DEC.reliability.2")
def test_start_and_resume_remove_stale_temp_files(one_batch_ppo: Path, tmp_path: Path) -> None:
    run = _copy(one_batch_ppo, tmp_path / "run")
    for name in (".checkpoint.pt.x1.tmp", ".progress.json.x2.tmp", ".config.json.x3.tmp"):
        (run / name).write_bytes(b"torn")
    run_training(PPO, run, resume=True)
    assert not list(run.glob("*.tmp"))


@pytest.mark.req("ISSUE.13.6")
def test_torn_last_telemetry_line_is_skipped_with_a_warning(one_batch_ppo: Path, tmp_path: Path) -> None:
    run = _copy(one_batch_ppo, tmp_path / "run")
    whole = read_events(run / "telemetry.jsonl")
    with (run / "telemetry.jsonl").open("a") as fh:
        fh.write('{"event_type": "episode_comp')
    with pytest.warns(TornLineWarning, match=r"telemetry.jsonl:\d+: skipped the torn last line"):
        assert read_events(run / "telemetry.jsonl") == whole
    text = (run / "telemetry.jsonl").read_text()
    (run / "telemetry.jsonl").write_text('{"broken\n' + text)
    with warnings.catch_warnings(), pytest.raises(ValueError, match=r"telemetry.jsonl:1: bad telemetry record"):
        warnings.simplefilter("error")
        read_events(run / "telemetry.jsonl")


@pytest.mark.req("ISSUE.13.7")
def test_threads_are_stored_applied_and_fixed_on_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    config = TrainingConfig(**{**BASELINE.to_dict(), "threads": 2})  # type: ignore[arg-type]
    previous = torch.get_num_threads()
    seen: list[int] = []
    import esper.simic.training.vectorized as vectorized

    class Seen(Exception):
        pass

    def spy(self: vectorized.VectorizedTrainer, batch: int, result: vectorized.RunResult) -> list[float]:
        seen.append(torch.get_num_threads())  # 2 threads would be slow on a loaded 2-core CI machine: stop here
        raise Seen

    monkeypatch.setattr(vectorized.VectorizedTrainer, "_run_batch", spy)
    with pytest.raises(Seen):
        run_training(config, run)
    assert seen == [2] and torch.get_num_threads() == previous
    assert json.loads((run / "config.json").read_text())["threads"] == 2
    with pytest.raises(ResumeError, match=r"threads: stored 2, requested 1"):
        run_training(BASELINE, run, resume=True)
    with pytest.raises(ValueError, match="threads must be an int >= 1"):
        TrainingConfig(threads=0)
