"""End to end on 2 local gloo processes: the distributed run equals the 1-process run (ISSUE.15.*).

One module fixture starts both ranks once (spawn, 127.0.0.1) and runs three scenarios in one process group,
while this process computes the 1-process references: a 2-batch PPO run, the same run resumed from a 1-process
checkpoint after its first batch, and a heuristic run with uneven shards (3 envs on 2 ranks).
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from esper.simic.training import RunResult, TrainingConfig, run_training
from esper.simic.training.vectorized import VectorizedTrainer
from esper.simic.training.distributed import spawn_local
from tests.simic_training.dist_worker import Scenario, run_scenarios

PPO = TrainingConfig(policy="ppo", task="digits_blind", episodes=8, n_envs=4, max_epochs=3, seed=3)
HEURISTIC = TrainingConfig(policy="heuristic", task="digits_blind", episodes=3, n_envs=3, max_epochs=3, seed=5)
WORLD = 2


def _events(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "telemetry.jsonl").read_text().splitlines() if line.strip()]


def _finals(run: Path) -> list[tuple[int, float]]:
    """(episode, final accuracy) of every episode_completed event, by episode."""
    rows = [e["data"] for e in _events(run) if e["event_type"] == "episode_completed"]
    return sorted((int(d["episode"]), float(d["final_val_accuracy"])) for d in rows)


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("dist")
    # 1-process reference, first leg; its folder after one batch is what the 2-process run resumes.
    ref = VectorizedTrainer(PPO, root / "ref")
    leg1 = ref.run(stop_after_batches=1)
    shutil.copytree(root / "ref", root / "resumed")
    scenarios: list[Scenario] = [
        ("refused", HEURISTIC, True),  # nothing to resume
        ("ppo", PPO, False),
        ("resumed", PPO, True),
        ("heuristic", HEURISTIC, False),
    ]
    failures: list[BaseException] = []

    def ranks() -> None:
        try:
            spawn_local(run_scenarios, WORLD, str(root), scenarios, timeout=300)
        except BaseException as exc:  # reported below
            failures.append(exc)

    launcher = threading.Thread(target=ranks)
    launcher.start()  # the ranks run while this process computes the references
    try:
        ref2 = VectorizedTrainer(PPO, root / "ref")
        leg2 = ref2.run(resume=True)
        assert ref2.agent is not None
        heuristic = run_training(HEURISTIC, root / "heuristic-ref")
    finally:
        launcher.join()
    assert not failures, f"the 2-process run failed: {failures[0]}"
    out = {
        name: [torch.load(root / f"{name}.rank{rank}.pt", weights_only=True) for rank in range(WORLD)]
        for name, _, _ in scenarios
    }
    return {
        "root": root,
        "ref_actions": leg1.actions + leg2.actions,
        "ref_network": ref2.agent.network.state_dict(),
        "heuristic_ref": heuristic,
        **out,
    }


@pytest.mark.req("ISSUE.15.3", "ISSUE.15.2", "ISSUE.15.1", "DEC.distributed.1")
def test_two_processes_give_the_episodes_and_policy_of_one(runs: dict[str, object]) -> None:
    root = runs["root"]
    assert isinstance(root, Path)
    assert _finals(root / "ppo") == _finals(root / "ref")
    assert len(_finals(root / "ppo")) == 8
    ranks = runs["ppo"]
    assert isinstance(ranks, list)
    for rank in ranks:
        assert rank["actions"] == runs["ref_actions"]
        assert rank["final_accuracies"] == [acc for _, acc in _finals(root / "ref")]
    ref_network = runs["ref_network"]
    assert isinstance(ref_network, dict)
    assert _max_diff(ranks[0]["network"], ref_network) < 1e-5
    saved = torch.load(root / "ppo" / "checkpoint.pt", weights_only=True)
    assert _max_diff(saved["network"], ref_network) < 1e-5
    # every rank holds the same policy and normaliser, bit for bit
    assert _max_diff(ranks[0]["network"], ranks[1]["network"]) == 0.0
    for key in ("mean", "var", "count"):
        assert torch.equal(ranks[0]["normalizer"][key], ranks[1]["normalizer"][key])


@pytest.mark.req("ISSUE.15.4", "DEC.distributed.4")
def test_rank_zero_writes_one_run_folder_with_every_ranks_events(runs: dict[str, object]) -> None:
    root = runs["root"]
    assert isinstance(root, Path)
    assert json.loads((root / "ppo" / "config.json").read_text())["world_size"] == WORLD
    assert not any(root.glob("*-rank1")), "rank 1 created a run folder"
    events = _events(root / "ppo")
    assert all(isinstance(e["data"].get("rank"), int) for e in events)
    envs_of_rank: dict[int, set[int]] = {0: set(), 1: set()}
    for e in events:
        data = e["data"]
        assert isinstance(data, dict)
        if e["event_type"] in ("episode_completed", "epoch_completed"):
            envs_of_rank[int(data["rank"])].add(int(data["env"]))
    assert envs_of_rank == {0: {0, 1}, 1: {2, 3}}
    kinds = [e["event_type"] for e in events]
    assert kinds.count("ppo_update_completed") == 2  # one per batch, from rank 0 only
    assert kinds.count("epoch_completed") == 8 * 3
    # the same events as the 1-process run (whose second leg was a resume, which logs checkpoint_loaded)
    reference = [str(e["event_type"]) for e in _events(root / "ref") if e["event_type"] != "checkpoint_loaded"]
    assert sorted(kinds) == sorted(reference)


@pytest.mark.req("ISSUE.15.5", "DEC.distributed.5")
def test_two_processes_resume_a_one_process_run(runs: dict[str, object]) -> None:
    root = runs["root"]
    assert isinstance(root, Path)
    assert _finals(root / "resumed") == _finals(root / "ref")
    saved = torch.load(root / "resumed" / "checkpoint.pt", weights_only=True)
    ref_network = runs["ref_network"]
    assert isinstance(ref_network, dict)
    assert _max_diff(saved["network"], ref_network) < 1e-5
    assert json.loads((root / "resumed" / "config.json").read_text())["world_size"] == WORLD
    assert json.loads((root / "resumed" / "progress.json").read_text())["batches_done"] == 2


@pytest.mark.req("ISSUE.15.5", "DEC.distributed.4")
def test_a_refused_resume_stops_every_rank(runs: dict[str, object]) -> None:
    ranks = runs["refused"]
    assert isinstance(ranks, list)
    for rank in ranks:
        assert "cannot resume" in rank["error"]
    root = runs["root"]
    assert isinstance(root, Path)
    assert not (root / "refused-rank1").exists()


@pytest.mark.req("ISSUE.15.7", "ISSUE.15.1")
def test_heuristic_run_distributes_over_uneven_shards(runs: dict[str, object]) -> None:
    root = runs["root"]
    assert isinstance(root, Path)
    reference = runs["heuristic_ref"]
    assert isinstance(reference, RunResult)
    ranks = runs["heuristic"]
    assert isinstance(ranks, list)
    for rank in ranks:
        assert rank["final_accuracies"] == reference.final_accuracies
        assert rank["actions"] == reference.actions
    assert _finals(root / "heuristic") == _finals(root / "heuristic-ref")
    ranks_seen = {int(e["data"]["rank"]) for e in _events(root / "heuristic") if e["event_type"] == "episode_completed"}
    assert ranks_seen == {0, 1}
