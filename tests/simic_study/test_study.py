"""``esper study`` end to end on the tiny preset (issue 10 deliverable 3)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from esper.cli import main
import numpy as np

from esper.simic.study import GymStudyPolicy, StudyConfig, eval_host_seeds, get_study_preset, mean_ci, run_study
from esper.simic.study.runner import DONE_FILE
from esper.simic.study.stats import t_quantile_975
from esper.simic.training.config import TrainingConfig
from esper.simic.training.vectorized import run_training


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


class _ReplayNoGrowth:
    """An external policy (the extension point): plays the evaluation set with the no-growth rule."""

    name = "external_wait"

    def __init__(self) -> None:
        self.seen: list[TrainingConfig] = []

    def run(self, eval_config: TrainingConfig, out_dir: Path) -> None:
        self.seen.append(eval_config)
        run_training(replace(eval_config, policy="baseline"), out_dir)


@pytest.mark.req("ISSUE.10.3", "DEC.reward.6")
def test_tiny_study_runs_resumes_and_reports(tmp_path: Path) -> None:
    config = get_study_preset("tiny")
    external = _ReplayNoGrowth()
    gym_wait = GymStudyPolicy("gym_wait", lambda obs, mask: np.zeros(5, dtype=np.int64))  # issue 14's policy shape
    md = run_study(config, tmp_path / "s", external=[external, gym_wait])
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    assert md.read_text().startswith("# Study: digits_blind")
    assert set(study["policies"]) == {"ppo_greedy", "ppo_sampled", "heuristic", "no_growth", "external_wait", "gym_wait"}
    for name, policy in study["policies"].items():
        runs = config.train_seeds if name.startswith("ppo") else 1
        assert policy["runs"] == runs
        assert policy["episodes"] == runs * config.eval_episodes
        assert set(policy["final_accuracy"]) >= {"mean", "half_width", "low", "high", "n"}
        assert set(policy["tempo_usage"]) == {"FAST", "STANDARD", "SLOW"}
        assert policy["collapsed_episodes"] >= 0
    # Same held-out hosts for every policy: the external no-growth replay equals the built-in no-growth row.
    assert study["policies"]["external_wait"]["final_accuracy"] == study["policies"]["no_growth"]["final_accuracy"]
    assert external.seen[0].seed == config.eval_seed and external.seen[0].episodes == config.eval_episodes
    assert eval_host_seeds(external.seen[0]) == [config.eval_seed * 1_000_003 + e for e in range(config.eval_episodes)]
    assert study["policies"]["gym_wait"]["seeds_germinated_mean"] == 0.0
    assert len(study["training"]["tempo_entropy_mean_curve"]) == config.train_episodes // config.n_envs
    assert study["wall_seconds"]["total"] > 0 and study["wall_seconds"]["elapsed"] > 0

    # Resume: a lost run is redone, finished ones are skipped, and the numbers are reproduced exactly.
    (tmp_path / "s" / "eval" / "ppo_greedy" / "seed1" / DONE_FILE).unlink()
    mtime = (tmp_path / "s" / "train" / "seed0" / "checkpoint.pt").stat().st_mtime_ns
    with pytest.raises(ValueError, match="resume"):
        run_study(config, tmp_path / "s", external=[external, gym_wait])
    run_study(config, tmp_path / "s", resume=True, external=[external, gym_wait])
    again = json.loads((tmp_path / "s" / "study.json").read_text())
    assert again["policies"] == study["policies"]
    assert (tmp_path / "s" / "train" / "seed0" / "checkpoint.pt").stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match="differs"):
        run_study(replace(config, train_episodes=4), tmp_path / "s", resume=True, external=[external, gym_wait])


@pytest.mark.req("ISSUE.10.4")
def test_parallel_study_equals_serial(tmp_path: Path) -> None:
    """``jobs=2`` runs the same seeded runs in two processes: the numbers equal a serial study's, and a study
    interrupted serially resumes in parallel (evaluations wait for their training run)."""
    config = replace(get_study_preset("tiny"), train_seeds=2)
    run_study(config, tmp_path / "serial")
    run_study(config, tmp_path / "parallel", jobs=2)
    serial = json.loads((tmp_path / "serial" / "study.json").read_text())
    parallel = json.loads((tmp_path / "parallel" / "study.json").read_text())
    assert parallel["policies"] == serial["policies"]
    assert parallel["training"] == serial["training"]
    (tmp_path / "parallel" / "train" / "seed1" / DONE_FILE).unlink()
    (tmp_path / "parallel" / "eval" / "ppo_greedy" / "seed1" / DONE_FILE).unlink()
    run_study(config, tmp_path / "parallel", resume=True, jobs=2)
    assert json.loads((tmp_path / "parallel" / "study.json").read_text())["policies"] == serial["policies"]
    with pytest.raises(ValueError, match="jobs"):
        run_study(config, tmp_path / "other", jobs=0)


@pytest.mark.req("ISSUE.10.3")
def test_study_cli_tiny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    argv = ["study", "--preset", "tiny", "--out", str(out), "--train-seeds", "1", "--no-progress"]
    assert main(argv) == 0
    assert (out / "study.md").is_file() and "study on digits_blind" in capsys.readouterr().out
    assert main([*argv[:-1], "--device", "cuda:99"]) == 2 or torch.cuda.is_available()


def test_study_config_validation() -> None:
    with pytest.raises(ValueError, match="eval_seed"):
        StudyConfig(train_seeds=5, eval_seed=3)
    with pytest.raises(ValueError, match="train_seeds"):
        StudyConfig(train_seeds=0)
    with pytest.raises(ValueError, match="reward_mode"):
        StudyConfig(reward_mode="dense")
    with pytest.raises(ValueError, match="unknown"):
        get_study_preset("huge")
    with pytest.raises(ValueError, match="evaluate"):
        TrainingConfig(evaluate="greedy")


def test_mean_ci_matches_t_table() -> None:
    ci = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert ci.mean == 3.0
    assert ci.half_width == pytest.approx(2.776 * (2.5**0.5) / 5**0.5)
    assert mean_ci([7.0]).half_width == 0.0
    assert t_quantile_975(1000) == pytest.approx(1.9623, abs=1e-3)
    with pytest.raises(ValueError):
        mean_ci([])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.req("ISSUE.10.3")
def test_tiny_study_on_cuda(tmp_path: Path) -> None:
    config = replace(get_study_preset("tiny"), device="cuda", train_seeds=1)
    run_study(config, tmp_path / "gpu")
    study = json.loads((tmp_path / "gpu" / "study.json").read_text())
    assert study["config"]["device"] == "cuda"
    assert study["policies"]["ppo_greedy"]["episodes"] == config.eval_episodes


@pytest.mark.req("ISSUE.10.3")
def test_targets_judge_both_ppo_modes() -> None:
    """The issue's targets are evaluated for greedy and sampled PPO alike (none is picked after the fact)."""
    from esper.simic.study.report import _targets

    def row(mean: float, half: float, n: int, params: float, usage: dict[str, int] | None = None) -> dict[str, object]:
        out: dict[str, object] = {"final_accuracy": {"mean": mean, "half_width": half, "n": n}, "params_added_mean": params}
        if usage is not None:
            out["tempo_usage"] = usage
        return out

    policies = {
        "ppo_greedy": row(70.0, 5.0, 5, 500.0),
        "ppo_sampled": row(52.0, 3.0, 5, 900.0, {"FAST": 3, "STANDARD": 1, "SLOW": 0}),
        "heuristic": row(62.0, 6.0, 20, 600.0),
        "no_growth": row(44.0, 2.0, 20, 0.0),
    }
    targets = _targets(policies, {"tempo_entropy_last": 0.9})
    assert targets["ppo_greedy_mean_ge_heuristic"] and targets["ppo_greedy_params_le_heuristic"]
    assert not targets["ppo_sampled_mean_ge_heuristic"] and not targets["ppo_sampled_ci_overlaps_or_above_heuristic"]
    assert not targets["ppo_sampled_params_le_heuristic"]
    assert targets["ppo_greedy_above_no_growth"] and targets["ppo_sampled_above_no_growth"]
    assert targets["heuristic_above_no_growth"] and targets["tempo_entropy_below_1"]
    assert targets["all_tempos_used"] is False
