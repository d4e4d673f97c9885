"""The benchmark suite of issue 12: what it measures, what it records, the sb3-contrib side-by-side, baselines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks import common, sidebyside
from benchmarks.machine import machine_class

ROOT = Path(__file__).resolve().parents[2]

REQUIRED_BENCHMARKS = [
    "bench_policy.py::test_ppo_update[4x25-1mb]",
    "bench_policy.py::test_ppo_update[16x25-1mb]",
    "bench_policy.py::test_ppo_update[32x50-4mb]",
    "bench_policy.py::test_get_action_batched_vs_single[1]",
    "bench_policy.py::test_get_action_batched_vs_single[4]",
    "bench_policy.py::test_get_action_batched_vs_single[16]",
    "bench_host.py::test_host_forward_backward_dormant_slots_vs_bare",
    "bench_host.py::test_slot_forward_blending",
    "bench_host.py::test_observation_and_masks_per_env_step[1]",
    "bench_training.py::test_env_epochs_per_second_digits[1]",
    "bench_training.py::test_env_epochs_per_second_digits[4]",
]


@pytest.mark.req("ISSUE.12.2")
def test_update_shapes_are_the_issue_configurations() -> None:
    assert [(s.envs, s.steps, s.minibatches) for s in common.UPDATE_SHAPES] == [(4, 25, 1), (16, 25, 1), (32, 50, 4)]
    assert common.OBS_DIM == 77 and common.PPO_EPOCHS == 4
    assert [s.samples for s in common.UPDATE_SHAPES] == [400, 1600, 6400]


@pytest.mark.req("ISSUE.12.2")
def test_a_benchmark_records_sizes_threads_and_device(tmp_path: Path) -> None:
    """Run one (fast) benchmark for real and read its JSON: sizes, threads and device are in extra_info."""
    out = tmp_path / "bench.json"
    args = [sys.executable, "-m", "pytest", "benchmarks/bench_host.py", "-k", "observation_and_masks_per_env_step",
            "-p", "no:xdist", "-q", "--benchmark-enable", "--benchmark-max-time=0.05", "--benchmark-min-rounds=2",
            f"--benchmark-json={out}"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
                               "PYTHONPATH": str(ROOT)})  # no xdist worker variables: they disable the timing
    assert done.returncode == 0, done.stdout + done.stderr
    assert "observation + masks:" in done.stdout  # the end-of-run summary
    runs = json.loads(out.read_text())["benchmarks"]
    assert [r["name"] for r in runs] == ["test_observation_and_masks_per_env_step[1]",
                                         "test_observation_and_masks_per_env_step[4]"]
    for run in runs:
        info = run["extra_info"]
        assert info["threads"] == 1 and info["device"] == "cpu" and info["obs_dim"] == 77
        assert info["envs"] in (1, 4) and info["seconds_per_env_step"] > 0


@pytest.mark.req("ISSUE.12.2", "DEC.perf.3")
def test_paired_medians_alternate_the_order() -> None:
    calls: list[str] = []
    first, second = common.paired_medians(lambda: calls.append("a"), lambda: calls.append("b"), rounds=4)
    assert first >= 0 and second >= 0
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]  # warm-up, then alternating rounds


@pytest.mark.req("ISSUE.12.3")
def test_sidebyside_summary_is_theirs_over_ours() -> None:
    shape = common.UPDATE_SHAPES[0]
    summary = sidebyside.summarize(shape, [0.1, 0.3, 0.2], [0.6, 0.9, 0.3], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0])
    assert summary["ratio"] == pytest.approx(3.0) and summary["cpu_ratio"] == pytest.approx(2.0)
    assert summary["ours_samples_per_s"] == pytest.approx(400 / 0.2) and summary["rounds"] == 3
    assert "ours vs theirs 3.00x" in sidebyside.format_row(summary)
    with pytest.raises(ValueError, match="same non-zero number of rounds"):
        sidebyside.summarize(shape, [0.1], [], [0.1], [])


@pytest.mark.req("ISSUE.12.3")
def test_sidebyside_without_sb3_contrib_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sidebyside, "sb3_available", lambda: False)
    assert sidebyside.main(["--rounds", "1"]) == 2
    assert "pip install -e '.[bench]'" in capsys.readouterr().err


@pytest.mark.req("ISSUE.12.3")
def test_sb3_contrib_is_an_optional_extra_only() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any("sb3" in dep or "stable" in dep for dep in project["dependencies"])
    assert any(dep.startswith("sb3-contrib") for dep in project["optional-dependencies"]["bench"])
    bench_module = (ROOT / "benchmarks" / "bench_sidebyside.py").read_text()
    assert "skipif(not sb3_available()" in bench_module


@pytest.mark.req("ISSUE.12.4")
def test_machine_class_names_os_arch_cpu_count_and_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESPER_BENCH_DEVICE", raising=False)
    name = machine_class()
    assert re.fullmatch(r"[a-z0-9-]+-\d+cpu-cpu", name), name


@pytest.mark.req("ISSUE.12.4")
def test_committed_baselines_cover_the_suite() -> None:
    baselines = sorted((ROOT / "benchmarks" / "baselines").glob("*/*/*.json"))
    assert baselines, "no committed baseline under benchmarks/baselines/<machine class>/<platform>/"
    for path in baselines:
        names = {b["fullname"].removeprefix("benchmarks/") for b in json.loads(path.read_text())["benchmarks"]}
        missing = [n for n in REQUIRED_BENCHMARKS if n not in names]
        assert not missing, f"{path.relative_to(ROOT)} lacks {missing}: refresh it with make bench-baseline"


@pytest.mark.req("ISSUE.12.4")
def test_bench_compare_fails_on_a_20_percent_mean_regression_and_refresh_is_documented() -> None:
    makefile = (ROOT / "Makefile").read_text()
    compare = makefile.split("bench-compare: setup", 1)[1].split("\n\n", 1)[0]
    assert "--benchmark-compare-fail=mean:20%" in compare and "--benchmark-compare " in compare
    assert "benchmarks/baselines/$(BENCH_CLASS)" in makefile and "bench-baseline: setup" in makefile
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    assert "make bench-baseline" in readme and "make bench-compare" in readme


@pytest.mark.req("ISSUE.12.5")
def test_benchmark_device_and_cuda_synchronisation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESPER_BENCH_DEVICE", raising=False)
    assert common.bench_device() == torch.device("cpu")
    monkeypatch.setenv("ESPER_BENCH_DEVICE", "cuda")
    assert common.bench_device() == torch.device("cuda")
    synced: list[torch.device] = []
    monkeypatch.setattr(torch.cuda, "synchronize", synced.append)
    common.synchronize(torch.device("cpu"))
    common.synchronize(torch.device("cuda"))
    assert synced == [torch.device("cuda")]
    script = (ROOT / "scripts" / "gpu_check.sh").read_text()
    assert "ESPER_BENCH_DEVICE=cuda" in script and "benchmarks" in script


@pytest.mark.cuda
@pytest.mark.req("ISSUE.12.5")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_update_benchmark_runs_on_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESPER_BENCH_DEVICE", "cuda")
    shape = common.UPDATE_SHAPES[0]
    agent = common.make_agent(shape, common.bench_device())
    buffer = common.filled_buffer(agent, shape.envs, shape.steps)
    metrics = common.rerun_update(agent, buffer)
    assert metrics["updates_applied"] == 4 and agent.network.lstm.weight_ih.device.type == "cuda"
