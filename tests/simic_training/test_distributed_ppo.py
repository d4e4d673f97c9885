"""DD-PPO arithmetic: PPO on env shards with gradients summed over ranks equals PPO on all envs (ISSUE.15.3).

The ranks are threads here, joined by a barrier-based sum all-reduce, so the claim is tested without a process
group; ``test_distributed_runs.py`` repeats it end to end with real gloo processes.
"""

from __future__ import annotations

import copy
import threading

import pytest
import torch

from tests.simic_agent.rollouts import collect
from esper.simic.agent import PPOAgent, PPOConfig, TamiyoRolloutBuffer
from esper.simic.agent.collective import EnvShard, LocalCollective

OBS_DIM = 12


class _ThreadGroup:
    """A sum all-reduce between ``world_size`` threads (every rank adds the parts in rank order)."""

    def __init__(self, world_size: int) -> None:
        self.world_size = world_size
        self.parts: list[torch.Tensor | None] = [None] * world_size
        self.barrier = threading.Barrier(world_size, timeout=60)
        self.reductions = 0


class _ThreadCollective:
    def __init__(self, group: _ThreadGroup, rank: int) -> None:
        self.group = group
        self._rank = rank

    @property
    def rank(self) -> int:
        return self._rank

    @property
    def world_size(self) -> int:
        return self.group.world_size

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        self.group.parts[self._rank] = tensor.detach().clone()
        self.group.barrier.wait()
        parts = [p for p in self.group.parts if p is not None]
        total = parts[0].clone()
        for part in parts[1:]:
            total += part
        self.group.barrier.wait()
        if self._rank == 0:
            self.group.reductions += 1
        tensor.copy_(total)
        return tensor


def _shard_buffer(agent: PPOAgent, full: TamiyoRolloutBuffer, shard: EnvShard) -> TamiyoRolloutBuffer:
    """The rows of ``shard`` of a finished buffer, as their own finished buffer."""
    part = agent.make_buffer(shard.count, full.max_steps)
    rows = shard.rows
    for name in ("obs", "values", "rewards", "dones", "truncated", "bootstrap_values", "has_bootstrap", "hidden_h", "hidden_c", "last_values"):
        getattr(part, name).copy_(getattr(full, name)[rows])
    for name in full.head_names:
        part.actions[name].copy_(full.actions[name][rows])
        part.log_probs[name].copy_(full.log_probs[name][rows])
        part.masks[name].copy_(full.masks[name][rows])
    part.step_counts = list(full.step_counts[rows])
    part.finished = True
    return part


def _update_on_ranks(
    agent: PPOAgent, full: TamiyoRolloutBuffer, world_size: int, seed: int
) -> tuple[list[PPOAgent], list[dict[str, float]], int]:
    group = _ThreadGroup(world_size)
    agents: list[PPOAgent] = []
    for rank in range(world_size):
        replica = copy.deepcopy(agent)
        replica.collective = _ThreadCollective(group, rank)
        agents.append(replica)
    metrics: list[dict[str, float]] = [{} for _ in range(world_size)]
    errors: list[BaseException] = []

    def work(rank: int) -> None:
        try:
            shard = EnvShard.of_rank(full.num_envs, world_size, rank)
            generator = torch.Generator().manual_seed(seed)
            metrics[rank] = agents[rank].update(_shard_buffer(agents[rank], full, shard), shard, generator=generator)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            group.barrier.abort()

    threads = [threading.Thread(target=work, args=(rank,)) for rank in range(world_size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return agents, metrics, group.reductions


@pytest.mark.req("ISSUE.15.3", "ISSUE.15.2", "DEC.distributed.2")
@pytest.mark.parametrize(
    ("n_envs", "world_size", "n_minibatches", "entropy_floor"),
    [(4, 2, 2, 0.02), (5, 2, 2, 0.02), (3, 3, 2, 5.0), (4, 2, 1, 5.0)],
)
def test_sharded_update_equals_single_process_update(
    n_envs: int, world_size: int, n_minibatches: int, entropy_floor: float
) -> None:
    """Same parameters (1e-5), optimiser moments and metrics as one process holding all envs, also with uneven
    shards, minibatches a rank holds no env of, and an active entropy floor (5 nats > any head's entropy)."""
    torch.manual_seed(7)
    config = PPOConfig(n_minibatches=n_minibatches, ppo_epochs=3, entropy_floor=entropy_floor, target_kl=None)
    agent = PPOAgent(OBS_DIM, config, hidden_dim=16)
    full = collect(agent, n_envs, 6, episode_len=4)
    reference = copy.deepcopy(agent)
    expected = reference.update(copy.deepcopy(full), generator=torch.Generator().manual_seed(11))

    ranks, metrics, reductions = _update_on_ranks(agent, full, world_size, seed=11)

    assert reductions > 0
    want = reference.network.state_dict()
    for rank, replica in enumerate(ranks):
        got = replica.network.state_dict()
        worst = max((got[k] - want[k]).abs().max().item() for k in want)
        assert worst < 1e-5, f"rank {rank}: parameters differ by {worst}"
        moments = replica.optimizer.state_dict()["state"]
        for index, state in reference.optimizer.state_dict()["state"].items():
            torch.testing.assert_close(moments[index]["exp_avg"], state["exp_avg"], atol=1e-6, rtol=1e-4)
        assert metrics[rank].keys() == expected.keys()
        for key, value in expected.items():
            assert metrics[rank][key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
    assert expected["entropy_floor_penalty"] > 0.0 if entropy_floor > 1.0 else True
    # every rank holds the same policy, bit for bit
    first = ranks[0].network.state_dict()
    for replica in ranks[1:]:
        assert all(torch.equal(first[k], v) for k, v in replica.network.state_dict().items())


@pytest.mark.req("ISSUE.15.3")
def test_single_process_update_is_unchanged_by_the_collective_code_path() -> None:
    """A LocalCollective and an explicit whole-buffer shard give exactly the default update."""
    torch.manual_seed(3)
    agent = PPOAgent(OBS_DIM, PPOConfig(ppo_epochs=2), hidden_dim=16)
    buffer = collect(agent, 3, 5, episode_len=5)
    a, b = copy.deepcopy(agent), copy.deepcopy(agent)
    b.collective = LocalCollective()
    ma = a.update(copy.deepcopy(buffer), generator=torch.Generator().manual_seed(1))
    mb = b.update(copy.deepcopy(buffer), EnvShard.whole(3), generator=torch.Generator().manual_seed(1))
    assert ma == mb
    assert all(torch.equal(v, b.network.state_dict()[k]) for k, v in a.network.state_dict().items())


@pytest.mark.req("ISSUE.15.3")
def test_update_rejects_a_shard_that_does_not_fit() -> None:
    torch.manual_seed(0)
    agent = PPOAgent(OBS_DIM, hidden_dim=16)
    buffer = collect(agent, 2, 3, episode_len=3)
    with pytest.raises(ValueError, match="shard holds 3 envs"):
        agent.update(buffer, EnvShard(0, 3, 3))
    with pytest.raises(ValueError, match="single process must hold all envs"):
        agent.update(buffer, EnvShard(0, 2, 4))
    with pytest.raises(TypeError, match="shard must be an EnvShard"):
        agent.update(buffer, (0, 2))  # type: ignore[arg-type]
