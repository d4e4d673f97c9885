"""Plan Task 11.3 and design §3 hosts: Host.germinate_seed forwards the tempo; CNN/transformer hosts and slots."""

from __future__ import annotations

import inspect

import pytest
import torch

from tests.kasmina.helpers import drive_to
from esper.kasmina import CNNHost, Host, MorphogeneticModel, SeedSlot, SeedStage, TaskConfig, TransformerHost
from esper.leyline import TEMPO_TO_EPOCHS, TempoAction


def _cnn_model(**kwargs: object) -> MorphogeneticModel:
    return MorphogeneticModel(CNNHost(in_channels=1, channels=(8, 12, 16)), **kwargs)  # type: ignore[arg-type]


@pytest.mark.req("T11.3.1", "CHK.11.1")
def test_germinate_seed_signature() -> None:
    assert Host is MorphogeneticModel
    sig = inspect.signature(MorphogeneticModel.germinate_seed)
    assert list(sig.parameters) == ["self", "blueprint_id", "seed_id", "slot", "blend_algorithm_id",
                                    "blend_tempo_epochs"]
    assert sig.parameters["blend_tempo_epochs"].default == 5


@pytest.mark.req("T11.3.1", "CHK.11.2")
@pytest.mark.parametrize("tempo", list(TempoAction))
def test_germinate_seed_forwards_tempo(tempo: TempoAction, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _cnn_model()
    calls: list[dict[str, object]] = []
    original = SeedSlot.germinate

    def spy(self: SeedSlot, *args: object, **kwargs: object) -> object:
        calls.append(dict(kwargs, slot_id=self.slot_id))
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SeedSlot, "germinate", spy)
    epochs = TEMPO_TO_EPOCHS[tempo]
    state = model.germinate_seed("norm", "seed-x", slot="r0c1", blend_algorithm_id="linear", blend_tempo_epochs=epochs)
    assert calls == [{"blueprint_id": "norm", "seed_id": "seed-x", "host_module": model.host,
                      "blend_algorithm_id": "linear", "blend_tempo_epochs": epochs, "slot_id": "r0c1"}]
    assert state.blend_tempo_epochs == epochs and state.slot_id == "r0c1"
    slot = model.resolve_slot("r0c1")
    drive_to(slot, SeedStage.BLENDING)
    assert slot.state is not None and slot.state.blending_steps_total == epochs


@pytest.mark.req("T11.3.2")
def test_slot_resolution() -> None:
    model = _cnn_model()
    slots = model.seed_slots
    assert model.slot_ids == ("r0c0", "r0c1", "r0c2")
    assert model.resolve_slot(2) is slots[2] and model.resolve_slot("r0c1") is slots[1]
    assert model.resolve_slot(slots[0]) is slots[0]
    model.germinate_seed("norm", slot=slots[0])
    assert model.germinate_seed("norm").slot_id == "r0c1"  # None -> first empty slot
    model.germinate_seed("norm")
    with pytest.raises(ValueError, match=r"no empty slot.*r0c0"):
        model.germinate_seed("norm")
    with pytest.raises(ValueError, match=r"'r9c9' is unknown; slot ids: \['r0c0', 'r0c1', 'r0c2'\]"):
        model.germinate_seed("norm", slot="r9c9")
    with pytest.raises(ValueError, match=r"out of range \[0, 2\]"):
        model.cull_seed(3)
    with pytest.raises(ValueError, match="does not belong"):
        model.fossilize_seed(SeedSlot("r0c0", 8))
    with pytest.raises(TypeError, match="slot must be"):
        model.cull_seed(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="slot must be"):
        model.cull_seed(True)


@pytest.mark.req("SYS.3.17")
def test_model_parameters_reports_and_lifecycle() -> None:
    model = _cnn_model()
    host_ids = {id(p) for p in model.host_parameters()}
    assert model.seed_parameters() == [] and model.seed_param_count == 0
    assert model.host_param_count == sum(p.numel() for p in model.host.parameters())
    assert model.slot_reports() == [None, None, None]
    model.germinate_seed("conv_heavy", slot=2)
    model.germinate_seed("norm", slot=0, blend_algorithm_id="gated")
    seed_ids = {id(p) for p in model.seed_parameters()}
    assert seed_ids and not seed_ids & host_ids
    assert host_ids | seed_ids == {id(p) for p in model.parameters()}
    assert model.seed_param_count == sum(s.state.metrics.seed_param_count for s in model.seed_slots if s.state)
    reports = model.slot_reports()
    assert reports[1] is None and reports[0] is not None and reports[2] is not None
    assert reports[2].slot_id == "r0c2" and reports[2].blueprint_id == "conv_heavy"
    assert model.step_epoch() == [False, False, False]
    drive_to(model.seed_slots[0], SeedStage.PROBATIONARY)
    model.seed_slots[0].state.metrics.record_counterfactual(-1.0)  # type: ignore[union-attr]
    assert model.step_epoch() == [True, False, False]
    model.cull_seed("r0c2", reason="tamiyo")
    assert model.seed_slots[2].state.cull_reason == "tamiyo"  # type: ignore[union-attr]
    assert model.seed_param_count == 0
    x = torch.randn(3, 1, 8, 8)
    assert model(x).shape == (3, 10)


@pytest.mark.req("SYS.3.17")
def test_fossilize_seed() -> None:
    model = _cnn_model()
    model.germinate_seed("norm", slot=1)
    slot = model.resolve_slot(1)
    drive_to(slot, SeedStage.PROBATIONARY)
    assert slot.state is not None
    slot.state.metrics.record_counterfactual(3.0)
    assert model.fossilize_seed("r0c1").passed
    assert slot.stage == SeedStage.FOSSILIZED
    assert model.seed_param_count == slot.state.metrics.seed_param_count > 0


@pytest.mark.req("SYS.3.15", "DEC.kasmina.12")
@pytest.mark.parametrize("size, in_channels", [(8, 1), (32, 3), (7, 3)])
def test_cnn_host_shapes(size: int, in_channels: int) -> None:
    host = CNNHost(in_channels=in_channels)
    assert host.injection_dims == (32, 64, 128) and host.topology == "cnn" and len(host.segments) == 3
    h = host.embed(torch.randn(2, in_channels, size, size))
    sizes = []
    for seg in host.segments:
        h = seg(h)
        sizes.append(h.shape[-1])
    expected, s = [], size
    for _ in range(3):
        s = -(-s // 2)
        expected.append(s)
    assert sizes == expected
    assert host(torch.randn(2, in_channels, size, size)).shape == (2, 10)
    kinds = [type(m).__name__ for m in host.segments[0]]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]


@pytest.mark.req("SYS.3.15")
def test_kernel_size_one_host_is_spatially_blind() -> None:
    host = CNNHost(in_channels=1, kernel_size=1).eval()
    x = torch.randn(4, 1, 8, 8)
    # permute pixels inside every 2x2 pooling window of the first block
    windows = x.reshape(4, 1, 4, 2, 4, 2).permute(0, 1, 2, 4, 3, 5).reshape(4, 1, 4, 4, 4)
    shuffled = windows[..., torch.tensor([3, 1, 0, 2])]
    y = shuffled.reshape(4, 1, 4, 4, 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(4, 1, 8, 8)
    assert not torch.equal(x, y)
    assert torch.equal(host(x), host(y))
    normal = CNNHost(in_channels=1, kernel_size=3).eval()
    assert not torch.allclose(normal(x), normal(y))


@pytest.mark.req("SYS.3.16", "DEC.kasmina.12")
def test_transformer_host() -> None:
    host = TransformerHost(vocab_size=30)
    assert host.topology == "transformer" and host.injection_dims == (64, 64, 64)
    assert [len(seg) for seg in host.segments] == [2, 2, 2]
    model = MorphogeneticModel(host)
    assert model.slot_ids == ("r0c0", "r0c1", "r0c2")
    x = torch.randint(0, 30, (2, 10))
    logits = model(x)
    assert logits.shape == (2, 10, 30)
    y = x.clone()
    y[:, 6:] = (y[:, 6:] + 1) % 30
    torch.testing.assert_close(model(y)[:, :6], logits[:, :6])  # causal
    assert [len(seg) for seg in TransformerHost(30, n_layer=7).segments] == [3, 2, 2]
    for block in host.segments[0]:
        assert type(block).__name__ == "TransformerBlock"


@pytest.mark.req("DEC.kasmina.9")
def test_seed_follows_host_dtype_and_slot_device() -> None:
    host = CNNHost(in_channels=1, channels=(8, 8, 8)).to(torch.float64)
    model = MorphogeneticModel(host)
    model.germinate_seed("conv_light", slot=0, blend_algorithm_id="gated")
    assert all(p.dtype == torch.float64 for p in model.seed_parameters())
    slot = SeedSlot("s", 8)
    slot.to(torch.device("meta"))
    slot.germinate("norm")
    assert all(p.device.type == "meta" for p in slot.seed_parameters())
    assert MorphogeneticModel(CNNHost(1), task_config=TaskConfig(topology="cnn")).topology == "cnn"
    with pytest.raises(ValueError, match="disagrees"):
        MorphogeneticModel(CNNHost(1), task_config=TaskConfig(topology="transformer"))


@pytest.mark.req("DEC.kasmina.13")
def test_api_additions() -> None:
    from esper.kasmina import QualityGates
    from esper.kasmina.slot import SeedState as ReExported
    from esper.kasmina.state import SeedState as Defined

    assert ReExported is Defined
    assert SeedSlot("s", 8, task_config=TaskConfig(topology="transformer")).topology == "transformer"
    assert SeedSlot("s", 8).topology == "cnn"
    with pytest.raises(ValueError, match="disagrees"):
        SeedSlot("s", 8, topology="cnn", task_config=TaskConfig(topology="transformer"))
    eager = SeedSlot("s", 8, gates=QualityGates(g2_min_epochs=1, g2_min_improvement=0.0, g2_min_grad_ratio=0.0))
    eager.germinate("norm")
    eager.step_epoch()
    eager.step_epoch()
    assert eager.stage == SeedStage.BLENDING
    model = _cnn_model()
    assert model.first_empty_slot() is model.seed_slots[0]
    model.germinate_seed("norm")
    assert model.first_empty_slot() is model.seed_slots[1]
    assert [s.slot_id for s in model.seed_slots] == list(model.slot_ids)
