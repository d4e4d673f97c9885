"""The observation layout table in spec/decisions/tamiyo.md is the code's layout (DEC.tamiyo.1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from esper.tamiyo.policy.features import feature_bounds, feature_specs, get_feature_size, observation_layout

DOC = Path(__file__).resolve().parents[2] / "spec" / "decisions" / "tamiyo.md"
ROW = re.compile(r"^\| (\d+) \| `([^`]+)` \| (.+) \| \[(-?[\d.]+), (-?[\d.]+)\] \|$")


def _doc_rows() -> list[tuple[int, str, str, float, float]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            rows.append((int(m[1]), m[2], m[3], float(m[4]), float(m[5])))
    return rows


@pytest.mark.req("DEC.tamiyo.1", "T13.3", "CHK.13.1")
def test_decision_doc_table_matches_the_code() -> None:
    rows = _doc_rows()
    assert len(rows) == get_feature_size(3) == 77
    assert [r[0] for r in rows] == list(range(77))
    assert [r[1] for r in rows] == observation_layout(3)
    assert [r[2] for r in rows] == [f.normalisation for f in feature_specs(3)]
    low, high = feature_bounds(3)
    assert torch.equal(torch.tensor([r[3] for r in rows], dtype=torch.float32), low)
    assert torch.equal(torch.tensor([r[4] for r in rows], dtype=torch.float32), high)


@pytest.mark.req("DEC.tamiyo.1", "T13.3")
def test_decision_doc_states_the_layout_change() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "17 to 18" in text and "74 to 77" in text and "incompatible" in text


@pytest.mark.req("DEC.tamiyo.1")
def test_per_slot_order() -> None:
    names = observation_layout(1)[23:]
    assert names[:5] == ["slot0.is_active", "slot0.stage", "slot0.alpha", "slot0.improvement", "slot0.tempo"]
    assert names[5:] == [f"slot0.blueprint.{n}" for n in (
        "noop", "conv_light", "attention", "norm", "depthwise", "bottleneck", "conv_small", "conv_heavy",
        "lora", "lora_large", "mlp_small", "mlp", "flex_attention",
    )]
