"""PPO learning tests (issue 10 deliverable 1): the machinery learns, separately from the hard growth problem.

Deterministic (seeded), CPU, a few seconds each; see ``learning_tasks.py`` for the tasks.
"""

from __future__ import annotations

import pytest
import torch

from tests.simic_agent.learning_tasks import LN3, RECALL_CUES, BanditSpec, train_bandit, train_recall

BANDIT_UPDATES = 25
"""Stated budget: the bandit must be solved (>= 90 % optimal greedy actions) within this many PPO updates."""
RECALL_UPDATES = 30


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.mark.req("ISSUE.10.1")
def test_factored_bandit_is_solved_and_tempo_entropy_falls() -> None:
    _, history = train_bandit(BANDIT_UPDATES, seed=0)
    assert history.optimal_fraction[0] < 0.9, "the task must not be solved before learning"
    assert max(history.optimal_fraction) >= 0.9
    assert history.optimal_fraction[-1] >= 0.9
    # The tempo must match a context feature: a solved policy is near-deterministic in tempo given the context.
    assert history.tempo_entropy[0] == pytest.approx(LN3, abs=0.01)
    assert history.tempo_entropy[-1] < 0.5 * LN3


@pytest.mark.req("ISSUE.10.1")
def test_tempo_rewarded_only_on_non_germinate_steps_is_untouched() -> None:
    """Control: GERMINATE is masked out, and every other op pays +1 extra when tempo index 0 was sampled.

    The tempo had no effect on those steps, so causal masking gives the tempo head no gradient at all: its
    parameters stay bit-identical and its distribution stays uniform (a head trained on the spurious correlation
    would move towards tempo 0).
    """
    torch.manual_seed(0)
    from tests.simic_agent.learning_tasks import bandit_agent

    initial = {k: v.clone() for k, v in bandit_agent(0).network.tempo_head.state_dict().items()}
    agent, history = train_bandit(10, BanditSpec(spurious_tempo=0, germinate_allowed=False), seed=0)
    for key, value in agent.network.tempo_head.state_dict().items():
        assert torch.equal(value, initial[key]), f"tempo head {key} changed without any GERMINATE step"
    first, last = history.wait_tempo_probs[0], history.wait_tempo_probs[-1]
    assert float((last - first).abs().max()) < 0.01
    assert history.tempo_entropy[-1] == pytest.approx(LN3, abs=0.01)


@pytest.mark.req("ISSUE.10.2")
def test_recall_needs_the_recurrent_state() -> None:
    """A cue at step 0 is paid for at step 3: the LSTM policy solves it."""
    _, recurrent = train_recall(RECALL_UPDATES, reset_every_step=False, seed=0)
    assert recurrent.success[0] < 0.5
    assert max(recurrent.success) == 1.0
    assert sum(recurrent.success[-10:]) / 10 >= 0.85


@pytest.mark.req("ISSUE.10.2")
def test_recall_control_with_hidden_state_reset_every_step_fails() -> None:
    _, memoryless = train_recall(RECALL_UPDATES // 2, reset_every_step=True, seed=0)
    # The last observation is the same for every cue, so a greedy memoryless policy answers every cue alike:
    # exactly 1 / RECALL_CUES of the balanced evaluation cues.
    assert all(s == pytest.approx(1.0 / RECALL_CUES) for s in memoryless.success)
