"""CHK.15.2 for Kasmina: the slot forward in every stage and the host forward compile to full graphs, and once
warm, later epochs and later episodes compile nothing new."""

from __future__ import annotations

import pytest
import torch

from conformance.adapter import ConformanceAdapter
from conformance.compile.checker import GraphCounter, compile_fullgraph

STAGES = ("TRAINING", "BLENDING", "PROBATIONARY", "FOSSILIZED")


@pytest.mark.req("CHK.15.2")
@pytest.mark.parametrize("algorithm", ["linear", "sigmoid", "gated"])
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_slot_forward_is_one_graph_in_every_stage(adapter: ConformanceAdapter, topology: str, algorithm: str) -> None:
    slot = adapter.make_slot(topology=topology)
    slot.germinate("norm", blend_algorithm_id=algorithm, blend_tempo_epochs=3)
    h = adapter.slot_input(slot, 2)
    for stage in STAGES:
        adapter.advance(slot, stage)
        counter = GraphCounter()
        x = h.clone().requires_grad_()
        out = compile_fullgraph(slot.forward, counter)(x)
        torch.testing.assert_close(out, slot(h), rtol=1e-5, atol=1e-6)
        (grad,) = torch.autograd.grad(out.sum(), x)
        assert torch.isfinite(grad).all() and counter.graphs == 1, stage


@pytest.mark.req("CHK.15.2")
def test_alpha_ramp_steps_do_not_recompile(adapter: ConformanceAdapter) -> None:
    slot = adapter.make_slot()
    slot.germinate("norm", blend_tempo_epochs=8)
    adapter.advance(slot, "BLENDING")
    counter = GraphCounter()
    forward = compile_fullgraph(slot.forward, counter)
    h = adapter.slot_input(slot, 2)
    state = slot.state
    assert state is not None
    alphas = []
    for _ in range(5):
        state.metrics.record_accuracy(60.0)
        slot.step_epoch()
        alphas.append(state.alpha)
        torch.testing.assert_close(forward(h), slot(h))
    assert len(set(alphas)) == 5, f"alpha should move every BLENDING epoch, got {alphas}"
    assert counter.graphs == 1, f"{counter.graphs} graphs for 5 epochs of one stage"


@pytest.mark.req("CHK.15.2")
def test_host_forward_does_not_recompile_across_episodes(adapter: ConformanceAdapter) -> None:
    """Episode 1 warms one graph per stage combination; episode 2 (a fresh host, new seeds, the same lifecycle)
    and every later epoch compile nothing new."""
    counter = GraphCounter()

    def episode(seed: int) -> None:
        torch.manual_seed(seed)
        host = adapter.make_host()
        host.eval()
        forward = compile_fullgraph(host.forward, counter)
        x = adapter.host_input(host, 2)
        slots = adapter.host_slots(host)
        host.germinate_seed("norm", f"a{seed}", slot=0, blend_tempo_epochs=3)
        host.germinate_seed("norm", f"b{seed}", slot=1, blend_tempo_epochs=5)
        for stage in STAGES:
            adapter.advance(slots[0], stage)
            if stage != "FOSSILIZED":
                adapter.advance(slots[1], stage)
            torch.testing.assert_close(forward(x), host(x))

    episode(1)
    warm = counter.graphs
    assert warm <= len(STAGES)
    episode(2)
    assert counter.graphs == warm, f"recompiled {counter.graphs - warm} time(s) in a later episode"
