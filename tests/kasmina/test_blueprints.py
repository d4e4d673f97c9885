"""Design §3 blueprints: registry, shapes, identity at init, causality, measured sizes."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings, strategies as st

from tests.kasmina.helpers import perturb_
from esper.kasmina import SeedSlot, blueprint_names, blueprint_param_count, create_blueprint
from esper.kasmina.blueprints import get_blueprint_spec
from esper.leyline import TOPOLOGY_BLUEPRINTS, BlueprintAction

CASES = [(t, n) for t in ("cnn", "transformer") for n in blueprint_names(t)]
LEARNED = [(t, n) for t, n in CASES if n != "noop"]


def _input(topology: str, dim: int, size: int = 5, batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, dim, size, size) if topology == "cnn" else torch.randn(batch, size, dim)


@pytest.mark.req("SYS.3.2", "SYS.3.3", "SYS.3.1")
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_registry_matches_leyline(topology: str) -> None:
    names = set(blueprint_names(topology))
    assert names == {b.blueprint_id for b in TOPOLOGY_BLUEPRINTS[topology]}
    for name in names:
        assert BlueprintAction.from_blueprint_id(name).blueprint_id == name
        spec = get_blueprint_spec(topology, name)
        assert (spec.topology, spec.name) == (topology, name) and spec.description


@pytest.mark.req("SYS.3.1", "DEC.kasmina.10")
@pytest.mark.parametrize("topology, name", CASES)
def test_identity_at_init(topology: str, name: str) -> None:
    module = create_blueprint(topology, name, 16)
    x = _input(topology, 16)
    out = module(x)
    assert out.shape == x.shape
    assert torch.equal(out, x)


@pytest.mark.req("SYS.3.1")
@settings(max_examples=30, deadline=None)
@given(case=st.sampled_from(LEARNED), dim=st.integers(2, 40), size=st.integers(1, 6), batch=st.integers(1, 3))
def test_shape_preserved_after_training_moves_weights(case: tuple[str, str], dim: int, size: int, batch: int) -> None:
    topology, name = case
    module = create_blueprint(topology, name, dim)
    perturb_(module)
    x = _input(topology, dim, size, batch)
    out = module(x)
    assert out.shape == x.shape and bool(torch.isfinite(out).all())


@pytest.mark.req("SYS.3.1")
@pytest.mark.parametrize("topology, name", LEARNED)
def test_blueprints_are_not_identity_once_trained(topology: str, name: str) -> None:
    module = create_blueprint(topology, name, 16)
    perturb_(module)
    x = _input(topology, 16)
    assert not torch.allclose(module(x), x)


@pytest.mark.req("SYS.3.3")
@pytest.mark.parametrize("name", blueprint_names("transformer"))
def test_transformer_blueprints_are_causal(name: str) -> None:
    module = create_blueprint("transformer", name, 16)
    perturb_(module)
    x = torch.randn(2, 7, 16)
    y = x.clone()
    y[:, 4:] = torch.randn(2, 3, 16)
    torch.testing.assert_close(module(x)[:, :4], module(y)[:, :4])


@pytest.mark.req("ISSUE.3.7", "SYS.3.1")
@pytest.mark.parametrize("topology, name", CASES)
@pytest.mark.parametrize("dim", [8, 32, 64])
def test_param_counts_are_measured(topology: str, name: str, dim: int) -> None:
    module = create_blueprint(topology, name, dim)
    assert blueprint_param_count(topology, name, dim) == sum(p.numel() for p in module.parameters())
    assert (blueprint_param_count(topology, name, dim) == 0) == (name == "noop")


@pytest.mark.req("ISSUE.3.7")
@pytest.mark.parametrize("algorithm", ["sigmoid", "gated"])
def test_slot_records_seed_param_count(algorithm: str) -> None:
    slot = SeedSlot("s", 32)
    state = slot.germinate("bottleneck", blend_algorithm_id=algorithm)
    gate = 33 if algorithm == "gated" else 0  # Linear(32, 1)
    assert state.metrics.seed_param_count == blueprint_param_count("cnn", "bottleneck", 32) + gate
    assert state.metrics.seed_param_count == sum(p.numel() for p in slot.seed_parameters())


@pytest.mark.req("SYS.3.1")
def test_unknown_blueprints_list_valid_names() -> None:
    with pytest.raises(ValueError, match=r"'bogus'.*valid: \['noop', 'norm'"):
        create_blueprint("cnn", "bogus", 8)
    with pytest.raises(ValueError, match=r"exists for topology \['transformer'\].*valid:.*conv_heavy"):
        create_blueprint("cnn", "lora", 8)
    with pytest.raises(ValueError, match=r"topology 'rnn' is unknown; valid: \['cnn', 'transformer'\]"):
        blueprint_names("rnn")
    with pytest.raises(ValueError, match="dim"):
        create_blueprint("cnn", "norm", 0)
    with pytest.raises(ValueError, match=r"unknown for topology 'transformer'.*valid:.*flex_attention"):
        SeedSlot("s", 8, topology="transformer").germinate("conv_heavy")


@pytest.mark.req("DEC.kasmina.7", "SYS.3.3")
@pytest.mark.filterwarnings("ignore:flex_attention called without torch.compile")
def test_flex_attention_blueprint_matches_flex_attention_score_mod() -> None:
    from torch.nn.attention.flex_attention import flex_attention

    from esper.kasmina.blueprints.transformer import FlexAttentionSeed

    module = create_blueprint("transformer", "flex_attention", 16)
    assert isinstance(module, FlexAttentionSeed)
    perturb_(module)
    slopes = module.slopes.detach()

    def score_mod(score: torch.Tensor, b: torch.Tensor, h: torch.Tensor, q_idx: torch.Tensor,
                  kv_idx: torch.Tensor) -> torch.Tensor:
        biased = score - slopes[h] * (q_idx - kv_idx)
        return torch.where(q_idx >= kv_idx, biased, -float("inf"))

    with torch.no_grad():
        q, k, v = module._heads(torch.randn(2, 6, 16))
        torch.testing.assert_close(module._attend(q, k, v), flex_attention(q, k, v, score_mod=score_mod))
    assert module.slopes.requires_grad


@pytest.mark.req("DEC.kasmina.10")
def test_decision_record_size_table_matches_code() -> None:
    import re
    from pathlib import Path

    record = Path(__file__).resolve().parents[2] / "spec" / "decisions" / "kasmina.md"
    rows = re.findall(r"^\| `(\w+)` \|([^\n]*)\|$", record.read_text(encoding="utf-8"), flags=re.MULTILINE)
    cnn = {name: [int(v) for v in cells.split("|")] for name, cells in rows if cells.count("|") == 2}
    transformer = {name: int(cells) for name, cells in rows if cells.count("|") == 0}
    assert set(cnn) == set(blueprint_names("cnn")) and set(transformer) == set(blueprint_names("transformer"))
    for name, counts in cnn.items():
        assert counts == [blueprint_param_count("cnn", name, c) for c in (32, 64, 128)], name
    for name, count in transformer.items():
        assert count == blueprint_param_count("transformer", name, 64), name


@pytest.mark.req("DEC.kasmina.10")
@pytest.mark.parametrize("name", blueprint_names("cnn"))
@pytest.mark.parametrize("channels", [2, 4, 8, 12])
def test_cnn_blueprints_accept_single_pixel_single_sample(name: str, channels: int) -> None:
    module = create_blueprint("cnn", name, channels)
    perturb_(module)
    x = torch.randn(1, channels, 1, 1)
    assert module(x).shape == x.shape
