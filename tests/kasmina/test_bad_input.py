"""Bad input raises clear errors and never leaves a slot half-changed."""

from __future__ import annotations

import math

import pytest
import torch

from tests.kasmina.helpers import make_slot
from esper.kasmina import CNNHost, SeedMetrics, SeedSlot, SeedStage, TaskConfig, TransformerHost


def _fingerprint(slot: SeedSlot) -> tuple[object, ...]:
    state = None if slot.state is None else slot.state.to_dict()
    return (state, slot._blend_tempo_epochs, slot._blend_algorithm_id, slot.isolate_gradients, slot.seed,
            slot.blend_gate, float(slot._alpha), slot._germinations, dict(slot._modules))


@pytest.mark.req("ISSUE.3.4")
@pytest.mark.parametrize("kwargs, error, match", [
    ({"blueprint_id": "bogus"}, ValueError, r"blueprint_id 'bogus' is unknown.*valid: \['noop'"),
    ({"blueprint_id": 3}, TypeError, "blueprint_id"),
    ({"blueprint_id": "norm", "blend_algorithm_id": "cosine"}, ValueError, r"blend_algorithm_id.*\['linear'"),
    ({"blueprint_id": "norm", "blend_tempo_epochs": 0}, ValueError, "blend_tempo_epochs must be an int >= 1"),
    ({"blueprint_id": "norm", "blend_tempo_epochs": -3}, ValueError, "blend_tempo_epochs"),
    ({"blueprint_id": "norm", "blend_tempo_epochs": 2.0}, TypeError, "blend_tempo_epochs"),
    ({"blueprint_id": "norm", "blend_tempo_epochs": True}, TypeError, "blend_tempo_epochs"),
    ({"blueprint_id": "norm", "blend_tempo_epochs": "5"}, TypeError, "blend_tempo_epochs"),
    ({"blueprint_id": "norm", "seed_id": ""}, ValueError, "seed_id"),
    ({"blueprint_id": "norm", "host_module": "host"}, TypeError, "host_module"),
])
@pytest.mark.parametrize("occupied", [False, True])
def test_germinate_rejects_bad_input_without_changes(kwargs: dict[str, object], error: type[Exception], match: str,
                                                     occupied: bool) -> None:
    slot = SeedSlot("s", 8)
    if occupied:
        slot.germinate("conv_small")
        slot.step_epoch()
    before = _fingerprint(slot)
    with pytest.raises(error, match=match):
        slot.germinate(**kwargs)  # type: ignore[arg-type]
    assert _fingerprint(slot) == before


@pytest.mark.req("ISSUE.3.4")
@pytest.mark.parametrize("stage", [SeedStage.GERMINATED, SeedStage.TRAINING, SeedStage.BLENDING,
                                   SeedStage.PROBATIONARY, SeedStage.FOSSILIZED])
def test_germinate_occupied_slot(stage: SeedStage) -> None:
    slot = make_slot("norm", stage=stage)
    before = _fingerprint(slot)
    with pytest.raises(ValueError, match=rf"slot 's0'.*occupied by seed 's0-seed1' in stage {stage.name}"):
        slot.germinate("conv_small", blend_tempo_epochs=3)
    assert _fingerprint(slot) == before


@pytest.mark.req("ISSUE.3.3")
@pytest.mark.parametrize("bad, error", [(math.nan, ValueError), (math.inf, ValueError), (-math.inf, ValueError),
                                        (-0.01, ValueError), (100.5, ValueError), ("50", TypeError),
                                        (None, TypeError), (True, TypeError), (torch.tensor(50.0), TypeError)])
def test_record_accuracy_rejects(bad: object, error: type[Exception]) -> None:
    m = SeedMetrics()
    m.record_accuracy(40.0)
    before = m.to_dict()
    with pytest.raises(error, match="acc"):
        m.record_accuracy(bad)  # type: ignore[arg-type]
    assert m.to_dict() == before
    m.record_accuracy(0)
    m.record_accuracy(100)
    assert m.current_val_accuracy == 100.0 and m.best_val_accuracy == 100.0


@pytest.mark.req("ISSUE.3.4")
def test_other_bad_arguments() -> None:
    with pytest.raises(ValueError, match="slot_id"):
        SeedSlot("", 8)
    with pytest.raises(ValueError, match="channels"):
        SeedSlot("s", 0)
    with pytest.raises(TypeError, match="channels"):
        SeedSlot("s", 8.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"topology 'rnn' is unknown; valid: \['cnn', 'transformer'\]"):
        SeedSlot("s", 8, topology="rnn")
    with pytest.raises(ValueError, match="disagrees"):
        SeedSlot("s", 8, topology="cnn", task_config=TaskConfig(topology="transformer"))
    with pytest.raises(TypeError, match="task_config"):
        SeedSlot("s", 8, task_config={"topology": "cnn"})  # type: ignore[arg-type]
    for kwargs in ({"blending_steps": 0}, {"max_epochs": -1}, {"topology": "rnn"}):
        with pytest.raises(ValueError):
            TaskConfig(**kwargs)  # type: ignore[arg-type]
    slot = make_slot("norm", stage=SeedStage.TRAINING)
    with pytest.raises(ValueError, match="reason"):
        slot.cull("")
    assert slot.stage == SeedStage.TRAINING
    with pytest.raises(ValueError, match="start_blending needs a seed in stage BLENDING"):
        slot.start_blending(3)
    with pytest.raises(ValueError, match="total_steps"):
        slot.start_blending(0)
    assert slot.state is not None
    with pytest.raises(ValueError, match="contribution must be finite"):
        slot.state.metrics.record_counterfactual(math.nan)


@pytest.mark.req("ISSUE.3.4")
def test_shape_errors_are_value_errors() -> None:
    slot = make_slot("conv_light", stage=SeedStage.BLENDING)
    with pytest.raises(ValueError, match=r"h must have shape \(B, 8, H, W\)"):
        slot(torch.randn(2, 7, 4, 4))
    with pytest.raises(ValueError, match="h must have shape"):
        slot(torch.randn(2, 8))
    tslot = SeedSlot("t", 8, topology="transformer")
    with pytest.raises(ValueError, match=r"\(B, T, 8\)"):
        tslot(torch.randn(2, 3, 9))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 3, H, W\)"):
        CNNHost()(torch.randn(2, 1, 8, 8))
    host = TransformerHost(vocab_size=10, block_size=4)
    with pytest.raises(ValueError, match=r"sequence length must be in \[1, 4\]"):
        host(torch.randint(0, 10, (1, 5)))
    with pytest.raises(ValueError, match="integer token ids"):
        host(torch.randn(1, 4))
    for kwargs, match in (({"kernel_size": 2}, "odd"), ({"channels": ()}, "channels"),
                          ({"channels": (8, 0)}, r"channels\[1\]")):
        with pytest.raises(ValueError, match=match):
            CNNHost(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="divisible by n_head"):
        TransformerHost(10, n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="n_layer must be >= 3"):
        TransformerHost(10, n_layer=2)
