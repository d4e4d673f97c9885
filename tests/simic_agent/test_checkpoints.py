"""Checkpoints: bit-exact round trip with normaliser state and layout; the plan's incompatibility scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pytest
import torch

import esper.simic.agent.network as network_module
from esper.leyline import HEAD_NAMES
from esper.simic.agent import (
    CheckpointFormatError,
    CheckpointIncompatibleError,
    PPOAgent,
    PPOConfig,
    load_checkpoint,
)
from esper.simic.agent.checkpoint import FORMAT_TAG

from tests.simic_agent.rollouts import STATE_DIM, collect

BASE_FEATURES, SLOTS = 23, 3
OLD_SLOT_FEATURES, NEW_SLOT_FEATURES = 17, 18


def _trained_agent(state_dim: int = STATE_DIM, slot_feature_size: int = NEW_SLOT_FEATURES) -> PPOAgent:
    agent = PPOAgent(
        state_dim, PPOConfig(ppo_epochs=1, lr=1e-3), hidden_dim=32, slot_feature_size=slot_feature_size
    )
    agent.normalize_obs(torch.randn(50, state_dim) * 3.0 + 1.0, update=True)
    agent.update(collect(agent, 2, 4))
    return agent


@pytest.mark.req("SYS.6.6", "DEC.simic_agent.10")
def test_round_trip_is_bit_exact(tmp_path: Path) -> None:
    agent = _trained_agent()
    path = agent.save(tmp_path / "agent.pt", extra={"episode": 12, "best_accuracy": 61.5, "run": "a", "flag": None})
    assert [p.name for p in tmp_path.iterdir()] == ["agent.pt"]  # atomic write left no temp file
    fresh = PPOAgent(STATE_DIM, PPOConfig(ppo_epochs=3), hidden_dim=32, slot_feature_size=NEW_SLOT_FEATURES)
    extra = fresh.load(path)
    assert extra == {"episode": 12, "best_accuracy": 61.5, "run": "a", "flag": None}
    for key, value in agent.network.state_dict().items():
        assert torch.equal(fresh.network.state_dict()[key], value), key
    saved_opt, loaded_opt = agent.optimizer.state_dict(), fresh.optimizer.state_dict()
    assert saved_opt["param_groups"] == loaded_opt["param_groups"]
    for index, state in saved_opt["state"].items():
        for key, value in state.items():
            assert torch.equal(loaded_opt["state"][index][key], value), (index, key)
    for key in ("mean", "var", "count"):
        saved, loaded = agent.obs_normalizer.state_dict()[key], fresh.obs_normalizer.state_dict()[key]
        assert isinstance(saved, torch.Tensor) and isinstance(loaded, torch.Tensor) and torch.equal(saved, loaded)
    assert fresh.config == agent.config
    obs = torch.randn(3, STATE_DIM)
    assert torch.equal(fresh.normalize_obs(obs), agent.normalize_obs(obs))
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == FORMAT_TAG and payload["layout"]["head_names"] == list(HEAD_NAMES)
    assert payload["layout"]["slot_feature_size"] == NEW_SLOT_FEATURES


@pytest.mark.req("SYS.6.6", "PLAN.3")
def test_checkpoint_of_the_17_feature_layout_fails_with_both_layouts_named(tmp_path: Path) -> None:
    old_dim = BASE_FEATURES + SLOTS * OLD_SLOT_FEATURES  # 74, before the tempo feature
    old = _trained_agent(old_dim, OLD_SLOT_FEATURES)
    path = old.save(tmp_path / "pre_tempo.pt")
    current = PPOAgent(STATE_DIM, hidden_dim=32, slot_feature_size=NEW_SLOT_FEATURES)
    with pytest.raises(CheckpointIncompatibleError) as info:
        current.load(path)
    message = str(info.value)
    assert str(path) in message
    assert "expected: obs_dim=77, slot_feature_size=18" in message
    assert "found:    obs_dim=74, slot_feature_size=17" in message
    assert "train a new agent from scratch" in message


@pytest.mark.req("SYS.6.6")
def test_checkpoint_with_four_heads_fails_with_both_layouts_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    four_heads = tuple(name for name in HEAD_NAMES if name != "tempo")
    with monkeypatch.context() as patch:  # build a policy as it was before the tempo head
        patch.setattr(network_module, "HEAD_NAMES", four_heads)
        patch.setattr(network_module, "_ForwardOutput", _four_head_output())
        legacy = PPOAgent(STATE_DIM, hidden_dim=32)
    assert "tempo" not in legacy.network.heads
    path = legacy.save(tmp_path / "four_heads.pt")
    with pytest.raises(CheckpointIncompatibleError) as info:
        PPOAgent(STATE_DIM, hidden_dim=32).load(path)
    message = str(info.value)
    assert "expected: obs_dim=77" in message and "5 heads (slot:3, blueprint:13, blend:3, tempo:3, op:4)" in message
    assert "found:    obs_dim=77" in message and "4 heads (slot:3, blueprint:13, blend:3, op:4)" in message
    with pytest.raises(CheckpointIncompatibleError):
        PPOAgent.from_checkpoint(path)


def _four_head_output() -> type:
    from typing import TypedDict

    class Legacy(TypedDict):
        slot_logits: torch.Tensor
        blueprint_logits: torch.Tensor
        blend_logits: torch.Tensor
        op_logits: torch.Tensor
        value: torch.Tensor
        hidden: tuple[torch.Tensor, torch.Tensor]

    return Legacy


@pytest.mark.req("DEC.simic_agent.10")
def test_truncated_and_foreign_files_raise_format_errors(tmp_path: Path) -> None:
    path = _trained_agent().save(tmp_path / "agent.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointFormatError, match="truncated.pt is not a readable Esper agent checkpoint"):
        load_checkpoint(truncated)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointFormatError, match="notes.txt is not a readable"):
        load_checkpoint(text)
    bare = tmp_path / "bare_state_dict.pt"
    torch.save(PPOAgent(STATE_DIM, hidden_dim=32).network.state_dict(), bare)
    with pytest.raises(CheckpointFormatError, match="bare_state_dict.pt is not an Esper agent checkpoint"):
        load_checkpoint(bare)
    pickled = tmp_path / "pickled_object.pt"
    torch.save({"format": FORMAT_TAG, "payload": PPOConfig()}, pickled)  # arbitrary objects: refused by weights_only
    with pytest.raises(CheckpointFormatError, match="pickled_object.pt is not a readable"):
        load_checkpoint(pickled)
    future = tmp_path / "future.pt"
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = 99
    torch.save(payload, future)
    with pytest.raises(CheckpointFormatError, match="format_version 99 is unsupported"):
        load_checkpoint(future)


@pytest.mark.req("DEC.simic_agent.10")
def test_failed_save_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agent = _trained_agent()
    path = agent.save(tmp_path / "agent.pt", extra={"episode": 1})
    with pytest.raises(TypeError, match=r"extra\['history'\] must be str, int, float, bool or None"):
        agent.save(path, extra={"history": [1, 2]})

    def crash_mid_write(obj: object, handle: BinaryIO) -> None:
        handle.write(b"partial checkpoint bytes")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        agent.save(path, extra={"episode": 2})
    monkeypatch.undo()
    assert load_checkpoint(path).extra == {"episode": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.pt"]
