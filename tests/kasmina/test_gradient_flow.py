"""Forward values and real .grad tensors through a slot in every stage (CPU, and CUDA when available)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from tests.kasmina.helpers import drive_to, feature_shape, make_slot, perturb_
from esper.kasmina import CNNHost, MorphogeneticModel, SeedSlot, SeedStage, TransformerHost

CUDA = pytest.param("cuda", marks=[pytest.mark.cuda,
                                   pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")])
DEVICES = ["cpu", CUDA]
BLENDED = [SeedStage.BLENDING, SeedStage.PROBATIONARY, SeedStage.FOSSILIZED]


def _slot(topology: str, stage: SeedStage, device: str, algorithm: str = "sigmoid") -> SeedSlot:
    blueprint = "conv_light" if topology == "cnn" else "mlp_small"
    slot = make_slot(blueprint, topology=topology, algorithm=algorithm, stage=stage).to(device)
    assert slot.seed is not None
    perturb_(slot)
    if stage == SeedStage.BLENDING:  # one ramp step so that 0 < alpha < 1
        assert slot.state is not None
        slot.step_epoch()
        assert 0.0 < slot.alpha < 1.0
    return slot


def _detach_seed_output(slot: SeedSlot) -> None:
    assert slot.seed is not None
    slot.seed.register_forward_hook(lambda _m, _i, out: out.detach())


@pytest.mark.req("SYS.3.4", "ISSUE.3.6")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_training_output_is_host_and_seed_learns(topology: str, device: str) -> None:
    slot = _slot(topology, SeedStage.TRAINING, device)
    h = torch.randn(feature_shape(topology, 8), device=device, requires_grad=True)
    out = slot(h)
    assert torch.equal(out, h)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    assert h.grad is not None and torch.equal(h.grad, grad_out)  # host sees only the identity path
    grads = [p.grad for p in slot.seed_parameters()]
    assert grads and all(g is not None for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads if g is not None)


@pytest.mark.req("ISSUE.3.6", "SYS.3.17")
@pytest.mark.parametrize("device", DEVICES)
def test_training_host_grads_equal_no_seed_grads_cnn(device: str) -> None:
    host = CNNHost(in_channels=1, channels=(8, 8, 8), device=device)
    model = MorphogeneticModel(host, device=device)
    plain = copy.deepcopy(host)
    for i, bp in enumerate(("conv_light", "attention", "depthwise")):
        model.germinate_seed(bp, slot=i)
    model.step_epoch()
    assert all(r is not None and r.stage == SeedStage.TRAINING for r in model.slot_reports())
    for s in model.seed_slots:
        perturb_(s)
    x = torch.randn(6, 1, 8, 8, device=device)
    y = torch.randint(0, 10, (6,), device=device)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    ref = nn.functional.cross_entropy(plain(x), y)
    ref.backward()
    assert torch.equal(loss, ref)
    for (name, p), q in zip(model.host.named_parameters(), plain.parameters()):
        assert p.grad is not None and q.grad is not None
        assert torch.equal(p.grad, q.grad), name
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.seed_parameters()
               if p.dim() > 1 or p.numel() > 1)


@pytest.mark.req("SYS.3.4", "ISSUE.3.6", "T07.2")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("algorithm", ["linear", "gated"])
@pytest.mark.parametrize("stage", [SeedStage.BLENDING, SeedStage.PROBATIONARY])
def test_cnn_blending_isolates_host(stage: SeedStage, algorithm: str, device: str) -> None:
    slot = _slot("cnn", stage, device, algorithm)
    assert slot.isolate_gradients
    twin = copy.deepcopy(slot)
    _detach_seed_output(twin)
    h = torch.randn(feature_shape("cnn", 8), device=device)
    h1, h2 = h.clone().requires_grad_(), h.clone().requires_grad_()
    out1, out2 = slot(h1), twin(h2)
    assert torch.equal(out1, out2)
    grad_out = torch.randn_like(out1)
    out1.backward(grad_out)
    out2.backward(grad_out)
    assert h1.grad is not None and torch.equal(h1.grad, h2.grad)  # nothing reached h through the seed
    if algorithm == "linear":
        w = slot.alpha
        torch.testing.assert_close(h1.grad, (1.0 - w) * grad_out)
        s = slot.seed(h.detach()) if slot.seed is not None else h
        torch.testing.assert_close(out1, h + w * (s - h))
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in slot.seed_parameters())


@pytest.mark.req("T07.2", "ISSUE.3.6", "DEC.kasmina.6")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("topology, stage", [("transformer", SeedStage.BLENDING), ("transformer", SeedStage.PROBATIONARY),
                                             ("cnn", SeedStage.FOSSILIZED), ("transformer", SeedStage.FOSSILIZED)])
def test_unisolated_stages_pass_gradient_through_seed(topology: str, stage: SeedStage, device: str) -> None:
    slot = _slot(topology, stage, device)
    assert not slot.isolate_gradients
    twin = copy.deepcopy(slot)
    _detach_seed_output(twin)
    h = torch.randn(feature_shape(topology, 8), device=device)
    h1, h2 = h.clone().requires_grad_(), h.clone().requires_grad_()
    grad_out = torch.randn(h.shape, device=device)
    slot(h1).backward(grad_out)
    twin(h2).backward(grad_out)
    assert h1.grad is not None and h2.grad is not None
    assert not torch.allclose(h1.grad, h2.grad)


@pytest.mark.req("T07.2")
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_isolation_flags_per_stage(topology: str) -> None:
    slot = SeedSlot("s", 8, topology=topology)
    slot.germinate("norm")
    assert not slot.isolate_gradients
    drive_to(slot, SeedStage.TRAINING)
    assert slot.isolate_gradients
    drive_to(slot, SeedStage.BLENDING)
    assert slot.isolate_gradients == (topology == "cnn")
    drive_to(slot, SeedStage.FOSSILIZED)
    assert not slot.isolate_gradients


@pytest.mark.req("ISSUE.3.5")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
@pytest.mark.parametrize("stage", [SeedStage.GERMINATED, SeedStage.TRAINING, *BLENDED])
def test_force_alpha_zero_returns_input(stage: SeedStage, topology: str, device: str) -> None:
    slot = _slot(topology, stage, device, "gated")
    h = torch.randn(feature_shape(topology, 8), device=device)
    with slot.force_alpha_zero():
        assert slot(h) is h
        with slot.force_alpha_zero():
            assert slot(h) is h
        assert slot(h) is h
    if stage in BLENDED:
        assert not torch.equal(slot(h), h)
    with pytest.raises(RuntimeError, match="boom"):
        with slot.force_alpha_zero():
            raise RuntimeError("boom")
    assert not slot._force_zero


@pytest.mark.req("SYS.3.4")
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_empty_and_germinated_slots_are_identity(topology: str) -> None:
    slot = SeedSlot("s", 8, topology=topology)
    h = torch.randn(feature_shape(topology, 8))
    assert slot(h) is h
    slot.germinate("norm")
    perturb_(slot)
    assert slot(h) is h


@pytest.mark.req("SYS.3.17")
def test_transformer_model_with_empty_slots_matches_host() -> None:
    host = TransformerHost(vocab_size=20, n_embd=16, n_head=2, n_layer=3, block_size=8)
    model = MorphogeneticModel(host)
    x = torch.randint(0, 20, (2, 8))
    assert torch.equal(model(x), host(x))
