"""The tempo head's choice reaches the seed inside the vectorized loop (plan Task 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from esper.leyline import TEMPO_TO_EPOCHS, BlueprintAction, LifecycleOp, TempoAction
from esper.simic.training import VectorizedTrainer

from tests.training.loop_helpers import events, script_actions, tiny_config


def _germinate_at_first_epoch(tempos: list[TempoAction]):
    def override(call: int, actions: dict[str, torch.Tensor]) -> None:
        if call == 0:
            n = actions["op"].shape[0]
            actions["op"][:] = LifecycleOp.GERMINATE
            actions["slot"][:] = 0
            actions["blueprint"][:] = BlueprintAction.CONV_LIGHT
            actions["tempo"][:] = torch.tensor([int(t) for t in tempos[:n]])
        else:
            actions["op"][:] = LifecycleOp.WAIT

    return override


@pytest.mark.req("T11.1.1", "T11.2.1", "T11.4.1", "CHK.11.3", "CHK.11.4", "ISSUE.6.3")
def test_tempo_index_decides_blend_duration_in_the_loop(tmp_path: Path) -> None:
    tempos = [TempoAction.FAST, TempoAction.SLOW]
    config = tiny_config(max_epochs=16, episodes=2)
    trainer = VectorizedTrainer(config, tmp_path)
    script_actions(trainer, _germinate_at_first_epoch(tempos))
    trainer.run()

    germinated = events(tmp_path, "seed_germinated")
    assert sorted((g["data"]["env"], g["data"]["blend_tempo_epochs"]) for g in germinated) == [(0, 3), (1, 8)]
    for g in germinated:
        assert {"policy", "episode", "env", "blueprint_id", "blend_algorithm_id"} <= set(g["data"])
    epochs = events(tmp_path, "epoch_completed")
    first = {e["data"]["env"]: e["data"] for e in epochs if e["data"]["epoch"] == 0}
    assert first[0]["tempo"] == "FAST" and first[1]["tempo"] == "SLOW"
    assert all(first[env]["op"] == "GERMINATE" and first[env]["executed"] for env in (0, 1))
    assert all(any(k.startswith("reward_") for k in e["data"]) for e in epochs)

    changes = events(tmp_path, "seed_stage_changed")
    for env, tempo in enumerate(tempos):
        mine = [c for c in changes if c["data"]["env"] == env]
        start = [c["epoch"] for c in mine if c["data"]["to_stage"] == "BLENDING"]
        end = [c["epoch"] for c in mine if c["data"]["to_stage"] == "PROBATIONARY"]
        assert start, f"env {env}: the seed never started blending within {config.max_epochs} epochs"
        assert end, f"env {env}: blending never finished within {config.max_epochs} epochs"
        assert end[0] - start[0] == TEMPO_TO_EPOCHS[tempo]


@pytest.mark.req("PLAN.6", "DEC.training.9")
def test_force_standard_tempo_overrides_the_policy(tmp_path: Path) -> None:
    config = tiny_config(max_epochs=3, force_tempo="STANDARD")
    trainer = VectorizedTrainer(config, tmp_path)
    script_actions(trainer, _germinate_at_first_epoch([TempoAction.FAST, TempoAction.SLOW]))
    trainer.run()
    germinated = events(tmp_path, "seed_germinated")
    assert len(germinated) == 2
    assert {g["data"]["blend_tempo_epochs"] for g in germinated} == {TEMPO_TO_EPOCHS[TempoAction.STANDARD]}
    # The policy's own choice is still what PPO learns from (stored in the epoch telemetry).
    first = [e["data"]["tempo"] for e in events(tmp_path, "epoch_completed") if e["data"]["epoch"] == 0]
    assert sorted(first) == ["FAST", "SLOW"]


@pytest.mark.req("SYS.1.3", "DEC.training.3")
def test_non_executable_action_runs_as_wait_with_reason(tmp_path: Path) -> None:
    def override(call: int, actions: dict[str, torch.Tensor]) -> None:
        actions["slot"][:] = 0
        actions["blueprint"][:] = BlueprintAction.NORM
        # Germinate twice into the same slot: the second one cannot execute (slot occupied).
        actions["op"][:] = LifecycleOp.GERMINATE if call < 2 else LifecycleOp.WAIT

    trainer = VectorizedTrainer(tiny_config(max_epochs=3), tmp_path)
    script_actions(trainer, override)
    trainer.run()
    second = [e["data"] for e in events(tmp_path, "epoch_completed") if e["data"]["epoch"] == 1]
    assert len(second) == 2
    for row in second:
        assert row["op"] == "GERMINATE" and row["executed"] is False
        assert "occupied" in row["reason"]
        assert row["reward_invalid_penalty"] == 0.0  # the default growth reward pays it as WAIT (DEC.reward.7)
    assert len(events(tmp_path, "seed_germinated")) == 2
