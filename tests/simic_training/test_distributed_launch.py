"""Launching: shards, the launcher's environment, refusing independent copies, per-env random streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from esper.cli import main
from esper.data import load_task
from esper.leyline import FactoredAction, LifecycleOp
from esper.simic.agent.collective import EnvShard
from esper.simic.rewards import RewardConfig
from esper.simic.training.distributed import DistContext, init_distributed, launched_world_size
from esper.simic.training.environment import SeedEnv
from esper.simic.training.rng import RngStream

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.req("ISSUE.15.1")
@given(n_envs=st.integers(1, 64), data=st.data())
def test_shards_partition_the_envs_contiguously_and_evenly(n_envs: int, data: st.DataObject) -> None:
    world = data.draw(st.integers(1, n_envs))
    shards = [EnvShard.of_rank(n_envs, world, rank) for rank in range(world)]
    assert shards[0].start == 0 and shards[-1].stop == n_envs
    assert all(a.stop == b.start for a, b in zip(shards, shards[1:]))
    sizes = [s.count for s in shards]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
    assert sizes == sorted(sizes, reverse=True)
    assert all(s.total == n_envs for s in shards)


@pytest.mark.req("ISSUE.15.1")
def test_shard_rejects_more_ranks_than_envs_and_bad_ranks() -> None:
    with pytest.raises(ValueError, match=r"world_size must be in \[1, n_envs=2\]"):
        EnvShard.of_rank(2, 3, 0)
    with pytest.raises(ValueError, match=r"rank must be in \[0, 1\]"):
        EnvShard.of_rank(4, 2, 2)
    with pytest.raises(TypeError, match="n_envs must be an int"):
        EnvShard.of_rank(4.0, 2, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="EnvShard needs"):
        EnvShard(3, 2, 4)


@pytest.mark.req("ISSUE.15.6")
def test_launcher_environment_is_read_or_refused() -> None:
    assert launched_world_size({}) == 1
    assert init_distributed("cpu", {}).world_size == 1
    assert init_distributed("cpu", {"WORLD_SIZE": "1", "RANK": "0"}).world_size == 1
    with pytest.raises(ValueError, match=r"\['MASTER_ADDR', 'MASTER_PORT'\] are not set: launch distributed runs with torchrun"):
        init_distributed("cpu", {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"})
    with pytest.raises(ValueError, match="WORLD_SIZE must be an int"):
        launched_world_size({"WORLD_SIZE": "two"})
    with pytest.raises(ValueError, match="WORLD_SIZE must be >= 1"):
        launched_world_size({"WORLD_SIZE": "0"})


@pytest.mark.req("ISSUE.15.6")
def test_cli_refuses_to_run_independent_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy started with WORLD_SIZE=2 but without the launcher's rendezvous stops before touching --out."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    for name in ("MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "run"
    assert main(["train", "ppo", "--preset", "smoke", "--out", str(out), "--no-progress"]) == 2
    assert "launch distributed runs with torchrun" in capsys.readouterr().err
    assert not out.exists()
    assert main(["report", str(tmp_path)]) == 2
    assert "esper report runs in one process" in capsys.readouterr().err


@pytest.mark.req("ISSUE.15.1")
def test_single_process_context_and_devices() -> None:
    ctx = DistContext()
    assert (ctx.rank, ctx.world_size, ctx.is_main) == (0, 1, True)
    assert ctx.resolve_device("cpu") == torch.device("cpu")
    t = torch.arange(3.0)
    assert ctx.all_reduce_sum(t) is t and ctx.all_gather_rows(t, [3]) is t
    assert ctx.all_gather_object({"a": 1}) == [{"a": 1}]
    assert ctx.broadcast_object(5) == 5
    with pytest.raises(ValueError, match="needs the backend"):
        DistContext(0, 2)
    two = DistContext(0, 2, 0, backend="gloo")  # not joined: only local checks
    with pytest.raises(ValueError, match="names one GPU"):
        two.resolve_device("cuda:0")
    with pytest.raises(ValueError, match="needs the nccl backend"):
        two.resolve_device("cuda")


@pytest.mark.req("DEC.distributed.3")
def test_rng_stream_isolates_an_env_from_the_global_rng() -> None:
    stream = RngStream()
    stream.seed(4)
    torch.manual_seed(0)
    outer = torch.get_rng_state()
    with stream.scope():
        first = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), outer)  # the outer stream did not move
    torch.rand(100)  # outer draws do not move the env's stream
    with stream.scope():
        second = torch.rand(3)
    expected = torch.Generator().manual_seed(4)
    assert torch.equal(first, torch.rand(3, generator=expected))
    assert torch.equal(second, torch.rand(3, generator=expected))
    with pytest.raises(RuntimeError, match="seed"):
        with RngStream().scope():
            pass


@pytest.mark.req("DEC.distributed.3")
def test_env_episode_does_not_depend_on_draws_between_its_steps() -> None:
    """Germination (seed-module initialisation) and training draw from the env's stream only."""
    task = load_task("digits_blind")

    def episode(noise: bool) -> list[float]:
        env = SeedEnv(0, task, max_epochs=2, max_seeds=2, reward_config=RewardConfig())
        env.reset(seed=11, context={})
        losses = []
        for epoch in range(2):
            if noise:
                torch.rand(1000)
            env.train_and_measure()
            if noise:
                torch.rand(7)
            env.step(FactoredAction.from_indices(0, 1, 0, 0, LifecycleOp.GERMINATE if epoch == 0 else LifecycleOp.WAIT))
            losses.append(env.signals.train_loss)
        losses.append(float(sum(p.detach().sum() for p in env.model.parameters())))
        assert env.stats.seeds_germinated == 1
        return losses

    torch.manual_seed(1)
    quiet = episode(False)
    torch.manual_seed(2)
    assert episode(True) == quiet


@pytest.mark.slow
@pytest.mark.req("ISSUE.15.3", "ISSUE.15.1")
@pytest.mark.skipif(not os.environ.get("ESPER_SLOW"), reason="slow: set ESPER_SLOW=1 (the gate proves it in test_distributed_runs)")
def test_torchrun_cli_equals_one_process_cli(tmp_path: Path) -> None:
    """The issue's done-when, literally: torchrun with 2 processes vs plain python, smoke preset, 4 envs."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    common = ["train", "ppo", "--preset", "smoke", "--n-envs", "4", "--seed", "3", "--no-progress"]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "esper"]
    subprocess.run([*torchrun, *common, "--out", str(tmp_path / "two")], check=True, env=env, cwd=REPO, timeout=600)
    subprocess.run([sys.executable, "-m", "esper", *common, "--out", str(tmp_path / "one")], check=True, env=env, cwd=REPO, timeout=600)
    from tests.simic_training.test_distributed_runs import _finals, _max_diff

    assert _finals(tmp_path / "two") == _finals(tmp_path / "one")
    a = torch.load(tmp_path / "two" / "checkpoint.pt", weights_only=True)["network"]
    b = torch.load(tmp_path / "one" / "checkpoint.pt", weights_only=True)["network"]
    assert _max_diff(a, b) < 1e-5


@pytest.mark.cuda
@pytest.mark.req("DEC.distributed.3")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_rng_stream_on_cuda_isolates_the_cuda_generator() -> None:
    stream = RngStream("cuda")
    stream.seed(4)
    torch.manual_seed(0)
    outer = torch.cuda.get_rng_state()
    with stream.scope():
        first = torch.rand(3, device="cuda")
    assert torch.equal(torch.cuda.get_rng_state(), outer)
    torch.rand(100, device="cuda")
    with stream.scope():
        second = torch.rand(3, device="cuda")
    torch.cuda.manual_seed(4)
    assert torch.equal(torch.cat([first, second]), torch.rand(6, device="cuda"))
