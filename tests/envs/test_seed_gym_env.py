"""``esper/SeedEnv-v0``: Gymnasium API, spaces, masks, reward/info, termination, host seeds, external agents."""

from __future__ import annotations

import runpy
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

gymnasium = pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

from esper.envs import ENV_ID, SeedGymEnv, evaluate_external_policy, masked_predictor  # noqa: E402
from esper.leyline import HEAD_NAMES, HEAD_SIZES, FactoredAction, LifecycleOp  # noqa: E402
from esper.simic.rewards import RewardConfig  # noqa: E402
from esper.simic.training.environment import SeedEnv  # noqa: E402
from esper.tamiyo.policy.action_masks import compute_action_masks  # noqa: E402
from esper.tamiyo.policy.features import BASE_FEATURE_SIZE, SLOT_FEATURE_SIZE, build_observation  # noqa: E402

EPOCHS = 3
REPO = Path(__file__).resolve().parents[2]


def _germinate(slot: int = 0, tempo: int = 2) -> np.ndarray:
    return np.array([slot, 1, 0, tempo, int(LifecycleOp.GERMINATE)], dtype=np.int64)


WAIT = np.array([0, 0, 0, 0, int(LifecycleOp.WAIT)], dtype=np.int64)


@pytest.fixture(scope="module")
def env() -> SeedGymEnv:
    return SeedGymEnv(task="digits_blind", max_epochs=EPOCHS)


@pytest.mark.req("ISSUE.14.1", "ISSUE.14.2")
def test_make_registers_the_spaces_in_head_order_and_passes_check_env() -> None:
    made = gymnasium.make(ENV_ID, task="digits_blind", max_epochs=EPOCHS)
    inner = made.unwrapped
    assert isinstance(inner, SeedGymEnv) and inner.env.max_epochs == EPOCHS
    assert isinstance(made.action_space, gymnasium.spaces.MultiDiscrete)
    assert made.action_space.nvec.tolist() == [HEAD_SIZES[name] for name in HEAD_NAMES] == [3, 13, 3, 3, 4]
    assert isinstance(made.observation_space, gymnasium.spaces.Box)
    assert made.observation_space.shape == (BASE_FEATURE_SIZE + 3 * SLOT_FEATURE_SIZE,) == (23 + 18 * 3,)
    assert made.observation_space.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # gymnasium's checker warns (e.g. unbounded Box): make that a failure too
        check_env(inner)  # raises on any API violation (seeded determinism, spaces, returned types, data reuse)
    made.close()


@pytest.mark.req("ISSUE.14.3")
def test_action_masks_are_tamiyos_per_head_masks_concatenated(env: SeedGymEnv) -> None:
    env.reset(seed=4)
    inner = env.env
    for action in (_germinate(0), WAIT):
        mask = env.action_masks()
        expected = compute_action_masks(
            inner.slot_reports, topology="cnn", seeds_germinated=inner.seeds_germinated, max_seeds=inner.max_seeds
        )
        assert mask.dtype == np.bool_ and mask.shape == (int(env.action_space.nvec.sum()),)
        offsets = np.cumsum([0, *env.action_space.nvec.tolist()])
        for i, name in enumerate(HEAD_NAMES):
            assert mask[offsets[i] : offsets[i + 1]].tolist() == expected[name].tolist(), name
        env.step(action)
    # After a germination the slot is occupied: CULL is not yet allowed (minimum age), GERMINATE still is.
    op = env.action_masks()[-len(LifecycleOp) :]
    assert op[LifecycleOp.WAIT] and op[LifecycleOp.GERMINATE]

    one_seed = SeedGymEnv(task="digits_blind", max_epochs=EPOCHS, max_seeds=1)
    one_seed.reset(seed=4)
    assert one_seed.action_masks()[-len(LifecycleOp) :][LifecycleOp.GERMINATE]
    one_seed.step(_germinate(0))
    assert not one_seed.action_masks()[-len(LifecycleOp) :][LifecycleOp.GERMINATE]  # the seed budget is spent


@pytest.mark.req("ISSUE.14.4", "ISSUE.14.5", "DEC.api.3")
def test_episode_is_seed_env_with_our_reward_and_terminates_at_max_epochs(env: SeedGymEnv) -> None:
    """Driving the gym env equals driving SeedEnv by hand with the same host seed (obs, reward, accuracy)."""
    actions = [_germinate(1, tempo=0), WAIT, WAIT]
    obs, info = env.reset(seed=11)
    reference = SeedEnv(0, env.task, max_epochs=EPOCHS, max_seeds=6, reward_config=RewardConfig())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        reference.reset(seed=11, context={})
        reference.train_and_measure()
        assert np.array_equal(obs, build_observation(reference.signals, reference.slot_reports).numpy())
        assert info == {"host_seed": 11, "epoch": 0, "val_accuracy": reference.signals.val_accuracy}
        for epoch, action in enumerate(actions, start=1):
            obs, reward, terminated, truncated, info = env.step(action)
            outcome = reference.step(FactoredAction.from_indices(*action.tolist()))
            if epoch < EPOCHS:
                assert reference.train_and_measure() is None  # no rollback on this host
            assert reward == pytest.approx(outcome.reward.total, abs=0)
            assert info["reward_components"] == {**outcome.reward.to_dict(), "governor_penalty": 0.0}
            components = {k: v for k, v in info["reward_components"].items() if k != "total"}
            assert sum(components.values()) == pytest.approx(reward)
            assert info["val_accuracy"] == reference.signals.val_accuracy and info["epoch"] == epoch
            assert info["executed"] == outcome.executed
            assert np.array_equal(obs, build_observation(reference.signals, reference.slot_reports).numpy())
            assert (terminated, truncated) == (epoch == EPOCHS, False)
    assert reference.stats.seeds_germinated == 1
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(WAIT)


@pytest.mark.req("ISSUE.14.6", "DEC.api.3")
def test_host_seed_fixes_the_episode_whatever_the_agent_does_with_torch_rng(env: SeedGymEnv) -> None:
    def run(disturb: bool) -> list[np.ndarray]:
        observations = [env.reset(seed=21)[0]]
        for action in (_germinate(2), WAIT, WAIT):
            if disturb:
                torch.randn(1000)  # an agent sampling from torch's global RNG between steps
            observations.append(env.step(action)[0])
        return observations

    torch.manual_seed(0)
    before = torch.get_rng_state()
    quiet = run(disturb=False)
    assert torch.equal(torch.get_rng_state(), before)  # the env never moves the caller's RNG
    noisy = run(disturb=True)
    assert all(np.array_equal(a, b) for a, b in zip(quiet, noisy, strict=True))
    other = env.reset(seed=22)[0]
    assert not np.array_equal(other, quiet[0])  # another host seed is another host
    drawn, info = env.reset()  # unseeded: the host seed comes from np_random and is reported
    assert isinstance(info["host_seed"], int) and env.host_seed == info["host_seed"]


@pytest.mark.req("ISSUE.14.4")
def test_bad_arguments_raise_naming_them(env: SeedGymEnv) -> None:
    with pytest.raises(TypeError, match="task must be a task name"):
        SeedGymEnv(task=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_epochs must be an int >= 1"):
        SeedGymEnv(max_epochs=0)
    with pytest.raises(TypeError, match="max_seeds must be an int >= 1"):
        SeedGymEnv(max_seeds=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"reward_mode 'dense' is unknown; valid: \['shaped', 'sparse', 'growth'\]"):
        SeedGymEnv(reward_mode="dense")
    with pytest.raises(ValueError, match="render_mode 'human' is not supported"):
        SeedGymEnv(render_mode="human")
    fresh = SeedGymEnv(max_epochs=2)
    with pytest.raises(RuntimeError, match=r"reset\(\) must be called before step"):
        fresh.step(WAIT)
    env.reset(seed=1)
    with pytest.raises(ValueError, match="action must be 5 integers in HEAD_NAMES order"):
        env.step(np.array([0, 0, 0, 0]))
    with pytest.raises(ValueError, match=r"action \[0, 0, 0, 3, 0\] is outside"):
        env.step(np.array([0, 0, 0, 3, 0]))
    with pytest.raises(ValueError, match="seed must be an int >= 0 or None"):
        env.reset(seed=-1)


@pytest.mark.req("ISSUE.14.7")
def test_evaluate_external_policy_scores_a_policy_on_given_host_seeds(env: SeedGymEnv) -> None:
    seen: list[np.ndarray] = []

    def germinate_once(obs: np.ndarray, mask: np.ndarray) -> list[int]:
        seen.append(mask)
        op = LifecycleOp.GERMINATE if mask[-len(LifecycleOp) + LifecycleOp.GERMINATE] and len(seen) == 1 else 0
        return [0, 1, 0, 1, int(op)]

    results = evaluate_external_policy(germinate_once, [5, 6], env=env)
    assert [r.host_seed for r in results] == [5, 6]
    assert results[0].seeds_germinated == 1 and results[1].seeds_germinated == 0
    assert all(r.actions_executed == EPOCHS for r in results)  # WAIT and a masked-valid GERMINATE both execute
    first = results[0]
    assert first.episode_return == pytest.approx(first.reward_components["total"])
    assert 0.0 <= first.final_val_accuracy <= first.best_val_accuracy <= 100.0
    seen.clear()
    again = evaluate_external_policy(germinate_once, [5], task="digits_blind", max_epochs=EPOCHS)
    assert again[0] == first  # same host seed, same policy: same episode, also in a fresh env

    with pytest.raises(TypeError, match="policy must be callable"):
        evaluate_external_policy("wait", [1], env=env)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="host_seeds must be a non-empty sequence of ints >= 0"):
        evaluate_external_policy(germinate_once, [], env=env)
    with pytest.raises(ValueError, match="pass either env or env_kwargs"):
        evaluate_external_policy(germinate_once, [1], env=env, max_epochs=2)


@pytest.mark.req("ISSUE.14.8")
def test_maskable_ppo_runs_two_updates_through_the_documented_example() -> None:
    """sb3-contrib's MaskablePPO trains on the env (2 rollouts -> 2 updates) and only ever picks masked-valid
    actions; the example script's own functions do the work, so the documented example cannot rot."""
    pytest.importorskip("sb3_contrib")
    example = runpy.run_path(str(REPO / "examples" / "maskable_ppo_seed_env.py"))
    invalid: list[list[int]] = []
    original_step = SeedGymEnv.step

    def checking_step(self: SeedGymEnv, action: np.ndarray) -> object:
        mask, offsets = self.action_masks(), np.cumsum([0, *self.action_space.nvec.tolist()])
        if not all(mask[offsets[i] + int(a)] for i, a in enumerate(action)):
            invalid.append(np.asarray(action).tolist())
        return original_step(self, action)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SeedGymEnv, "step", checking_step)
        model = example["train"](
            task="digits_blind", max_epochs=4, timesteps=16, n_steps=8, batch_size=8, n_epochs=1, seed=0
        )
    assert model._n_updates == 2 and model.num_timesteps == 16
    assert invalid == []
    from sb3_contrib import MaskablePPO

    untrained = MaskablePPO(
        "MlpPolicy", gymnasium.make(ENV_ID, max_epochs=4), n_steps=8, batch_size=8, n_epochs=1, seed=0
    )  # the same seed gives the same initial weights
    before, after = untrained.policy.state_dict(), model.policy.state_dict()
    assert before.keys() == after.keys()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the two updates changed the policy
    results = evaluate_external_policy(masked_predictor(model), [3], max_epochs=4)
    assert results[0].host_seed == 3 and results[0].actions_executed >= 1
