"""torch.compile(fullgraph=True) of slots, blueprints and the morphogenetic model: no graph breaks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch._dynamo.testing import CompileCounter

from conformance.kasmina.helpers import drive_to, feature_shape, perturb_
from esper.kasmina import CNNHost, MorphogeneticModel, SeedSlot, SeedStage, TransformerHost, blueprint_names
from esper.kasmina import create_blueprint

STAGES = [SeedStage.TRAINING, SeedStage.BLENDING, SeedStage.PROBATIONARY, SeedStage.FOSSILIZED]


@pytest.fixture(autouse=True)
def _fresh_dynamo() -> Iterator[None]:
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.req("CHK.15.2")
@pytest.mark.parametrize("algorithm", ["linear", "sigmoid", "gated"])
@pytest.mark.parametrize("topology, blueprint", [("cnn", "conv_light"), ("transformer", "flex_attention")])
def test_slot_forward_compiles_in_every_stage(topology: str, blueprint: str, algorithm: str) -> None:
    slot = SeedSlot("s", 8, topology=topology)
    slot.germinate(blueprint, blend_algorithm_id=algorithm)
    perturb_(slot)
    h = torch.randn(feature_shape(topology, 8))
    for stage in STAGES:
        drive_to(slot, stage)
        torch._dynamo.reset()
        compiled = torch.compile(slot, fullgraph=True, backend="eager")
        x = h.clone().requires_grad_()
        out = compiled(x)
        torch.testing.assert_close(out, slot(h), rtol=1e-5, atol=1e-6)
        out.sum().backward()
        assert x.grad is not None


@pytest.mark.req("CHK.15.2")
def test_alpha_ramp_does_not_recompile() -> None:
    slot = SeedSlot("s", 8)
    slot.germinate("conv_small", blend_tempo_epochs=8)
    drive_to(slot, SeedStage.BLENDING)
    counter = CompileCounter()
    compiled = torch.compile(slot, fullgraph=True, backend=counter)
    h = torch.randn(feature_shape("cnn", 8))
    for _ in range(6):
        slot.step_epoch()
        torch.testing.assert_close(compiled(h), slot(h))
    assert slot.stage == SeedStage.BLENDING
    assert counter.frame_count == 1


@pytest.mark.req("CHK.15.2")
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_every_blueprint_compiles(topology: str) -> None:
    for name in blueprint_names(topology):
        torch._dynamo.reset()
        module = create_blueprint(topology, name, 8)
        perturb_(module)
        x = torch.randn(feature_shape(topology, 8))
        torch.testing.assert_close(torch.compile(module, fullgraph=True, backend="eager")(x), module(x))


@pytest.mark.req("CHK.15.2")
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_model_forward_compiles_with_seeds(topology: str) -> None:
    if topology == "cnn":
        model = MorphogeneticModel(CNNHost(in_channels=1, channels=(8, 8, 8)))
        x = torch.randn(2, 1, 8, 8)
        blueprints = ("conv_light", "attention", "depthwise")
    else:
        model = MorphogeneticModel(TransformerHost(vocab_size=11, n_embd=8, n_head=2, n_layer=3, block_size=6))
        x = torch.randint(0, 11, (2, 6))
        blueprints = ("lora", "attention", "mlp")
    for i, (bp, algorithm) in enumerate(zip(blueprints, ("linear", "sigmoid", "gated"))):
        model.germinate_seed(bp, slot=i, blend_algorithm_id=algorithm)
    slots = model.seed_slots
    drive_to(slots[0], SeedStage.TRAINING)
    drive_to(slots[1], SeedStage.BLENDING)
    drive_to(slots[2], SeedStage.FOSSILIZED)
    for s in slots:
        perturb_(s)
    model.eval()
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x), model(x))
    with slots[1].force_alpha_zero():
        torch.testing.assert_close(compiled(x), model(x))
