"""Crash-injection matrix: kill a run at each write point, resume, and get exactly the uninterrupted result.

Each row forks a child that trains a tiny 2-batch run and dies with ``os._exit`` (no ``finally``, no cleanup, as
with SIGKILL) at one write point; the test process then resumes the run (``--resume``; a fresh start when the
kill came before ``config.json`` existed, which resume must refuse clearly) and compares it with a run that was
never interrupted: final weights, Adam moments and step counts, normaliser, bookkeeping, every telemetry event
but its timestamp, and no temp file left behind.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from esper.simic.training import TrainingConfig, run_training
from esper.simic.training.run_dir import ResumeError

from tests.reliability.crash import KILLED, WritePoint, comparable_events, run_killed

PPO = TrainingConfig(
    policy="ppo", episodes=2, n_envs=1, max_epochs=1, ppo_epochs=2, n_minibatches=1, seed=5, hidden_dim=16
)
HEURISTIC = TrainingConfig(policy="heuristic", episodes=2, n_envs=1, max_epochs=2, n_minibatches=1, seed=5)

# (config, write point): every write site of a 2-batch run, in write order; RESUMED rows kill the resume itself
# (after one finished batch): its rewrite of config.json and progress.json and its checkpoint_loaded event.
MATRIX: list[tuple[TrainingConfig, WritePoint]] = [
    (PPO, WritePoint("config.json", 1, "torn")),
    (PPO, WritePoint("config.json", 1, "before")),
    (PPO, WritePoint("epoch_completed", 1, "torn")),
    (PPO, WritePoint("checkpoint.pt", 1, "torn")),
    (PPO, WritePoint("checkpoint.pt", 1, "before")),
    (PPO, WritePoint("checkpoint.pt", 1, "after")),  # the case: checkpoint replaced, progress not yet
    (PPO, WritePoint("checkpoint_saved", 1, "torn")),
    (PPO, WritePoint("progress.json", 1, "torn")),
    (PPO, WritePoint("progress.json", 1, "before")),
    (PPO, WritePoint("progress.json", 1, "after")),
    (PPO, WritePoint("episode_completed", 2, "torn")),
    (PPO, WritePoint("checkpoint.pt", 2, "after")),
    (PPO, WritePoint("progress.json", 2, "after")),
    (HEURISTIC, WritePoint("epoch_completed", 3, "torn")),
    (HEURISTIC, WritePoint("progress.json", 1, "before")),
    (HEURISTIC, WritePoint("progress.json", 1, "after")),
]
RESUMED: list[tuple[TrainingConfig, WritePoint]] = [
    (PPO, WritePoint("config.json", 1, "after")),
    (PPO, WritePoint("progress.json", 1, "before")),
    (PPO, WritePoint("checkpoint_loaded", 1, "torn")),
]
ROWS = [(c, p, False) for c, p in MATRIX] + [(c, p, True) for c, p in RESUMED]


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kills use os.fork and /proc (Linux)")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("uninterrupted")
    for config in (PPO, HEURISTIC):
        run_training(config, root / config.policy)
    return {policy: root / policy for policy in ("ppo", "heuristic")}


def _assert_same_checkpoint(got: Path, want: Path) -> None:
    a = torch.load(got, weights_only=True)
    b = torch.load(want, weights_only=True)
    assert a["extra"]["batches_done"] == b["extra"]["batches_done"]
    for key, value in b["network"].items():
        assert torch.equal(a["network"][key], value), key
    assert a["optimizer"]["param_groups"] == b["optimizer"]["param_groups"]
    assert a["optimizer"]["state"].keys() == b["optimizer"]["state"].keys()
    for index, state in b["optimizer"]["state"].items():
        for key, value in state.items():  # step counts included: a batch trained twice would show here
            assert torch.equal(a["optimizer"]["state"][index][key], value), (index, key)
    for key in ("mean", "var", "count"):
        assert torch.equal(a["normalizer"][key], b["normalizer"][key]), key


@pytest.mark.req("ISSUE.13.1", "ISSUE.13.2", "ISSUE.13.20", "DEC.reliability.1", "DEC.reliability.2")
@pytest.mark.parametrize(
    ("config", "point", "in_resume"), ROWS, ids=[f"{c.policy}-{'resume-' if r else ''}{p}" for c, p, r in ROWS]
)
def test_kill_at_write_point_then_resume_equals_uninterrupted(
    config: TrainingConfig, point: WritePoint, in_resume: bool, reference: dict[str, Path], tmp_path: Path
) -> None:
    run = tmp_path / "run"
    if in_resume:
        run_training(config, run, stop_after_batches=1)
    job = (lambda: run_training(config, run, resume=True)) if in_resume else (lambda: run_training(config, run))
    assert run_killed(point, job) == KILLED, f"never reached {point}"
    if (run / "config.json").exists():
        run_training(config, run, resume=True)
    else:  # killed before the run existed: resume says so, a fresh start works (and cleans the temp file)
        with pytest.raises(ResumeError, match="config.json does not exist"):
            run_training(config, run, resume=True)
        run_training(config, run)
    want = reference[config.policy]
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in want.iterdir())  # no *.tmp left
    assert (run / "progress.json").read_text() != "" and comparable_events(run) == comparable_events(want)
    if config.policy == "ppo":
        _assert_same_checkpoint(run / "checkpoint.pt", want / "checkpoint.pt")
        assert (run / "progress.json").read_text().startswith('{"batches_done": 2,')
