import pytest
import torch

from esper.kasmina.slot import SeedSlot, SeedStage
from esper.leyline.factored_actions import TempoAction, TEMPO_TO_EPOCHS


@pytest.fixture
def slot():
    """Create a test slot."""
    return SeedSlot(
        slot_id="test_slot",
        channels=64,
        device="cpu",
    )


def test_tempo_affects_blending_duration(slot):
    """Verify FAST tempo leads to shorter blending than SLOW."""
    # Germinate with FAST tempo (3 epochs)
    slot.germinate(
        blueprint_id="norm",
        seed_id="fast_seed",
        blend_tempo_epochs=TEMPO_TO_EPOCHS[TempoAction.FAST],
    )
    assert slot.state.blend_tempo_epochs == 3

    # Advance to TRAINING
    slot.step_epoch()
    assert slot.state.stage == SeedStage.TRAINING

    # Record accuracy to pass G2 gate
    for _ in range(3):
        slot.state.metrics.record_accuracy(50.0 + _)
        slot.state.metrics.seed_gradient_norm_ratio = 0.5
        slot.step_epoch()

    # Should transition to BLENDING
    assert slot.state.stage == SeedStage.BLENDING
    assert slot.state.blending_steps_total == 3  # FAST tempo


def test_tempo_stored_in_state(slot):
    """Verify tempo is persisted in SeedState."""
    slot.germinate(
        blueprint_id="norm",
        blend_tempo_epochs=8,  # SLOW
    )

    # Check state storage
    assert slot.state.blend_tempo_epochs == 8

    # Check serialization roundtrip
    state_dict = slot.state.to_dict()
    assert state_dict["blend_tempo_epochs"] == 8


def test_head_names_includes_tempo():
    """Verify HEAD_NAMES was updated (critical for PPO training)."""
    from esper.leyline import HEAD_NAMES
    assert "tempo" in HEAD_NAMES, "CRITICAL: tempo missing from HEAD_NAMES, PPO will not train tempo head!"
