"""Leyline contracts: package isolation, defaults, masked logits, telemetry types and seed reports."""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import esper.leyline
from esper.leyline import (
    BlueprintAction,
    SeedMetricsReport,
    SeedStage,
    SeedStateReport,
    SeedTelemetry,
    TelemetryEvent,
    TelemetryEventType,
    defaults,
)

LEYLINE_DIR = Path(esper.leyline.__file__).parent


def _imported_modules(path: Path) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in ``path`` (relative imports resolved)."""
    package = "esper.leyline"
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                out.append((f"{base}.{node.module}" if node.module else base, node.lineno))
            else:
                out.append((node.module or "", node.lineno))
    return out


@pytest.mark.req("DEC.leyline.1")
def test_leyline_imports_no_other_esper_package() -> None:
    files = sorted(LEYLINE_DIR.glob("*.py"))
    assert len(files) >= 5
    offending = [
        f"{path.name}:{line} imports {module}"
        for path in files
        for module, line in _imported_modules(path)
        if (module == "esper" or module.startswith("esper."))
        and module != "esper.leyline"
        and not module.startswith("esper.leyline.")
    ]
    assert offending == []


@pytest.mark.req("DEC.leyline.1")
def test_importing_leyline_loads_no_other_esper_module() -> None:
    code = (
        "import sys, esper.leyline\n"
        "print(sorted(m for m in sys.modules if m.startswith('esper.') and not m.startswith('esper.leyline')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


@pytest.mark.req("DEC.leyline.10")
def test_defaults_match_design_note_and_plan() -> None:
    expected = {
        "DEFAULT_MAX_EPOCHS": 25,
        "DEFAULT_BLENDING_TOTAL_STEPS": 5,
        "G2_MIN_IMPROVEMENT": 0.5,
        "G2_MIN_EPOCHS": 3,
        "G2_MIN_GRAD_RATIO": 0.1,
        "G3_MIN_BLEND_EPOCHS": 3,
        "G3_MIN_ALPHA": 0.95,
        "G5_MIN_CONTRIBUTION": 1.0,
        "PROBATION_MIN_EPOCHS": 5,
        "PROBATION_FRACTION_OF_EPISODE": 0.10,
        "EMBARGO_EPOCHS": 5,
        "TEMPO_FEATURE_SCALE": 12.0,
        "DEFAULT_HIDDEN_DIM": 128,
        "DEFAULT_HEAD_HIDDEN": 64,
        "DEFAULT_GAMMA": 0.995,
        "DEFAULT_GAE_LAMBDA": 0.97,
        "DEFAULT_CLIP_RATIO": 0.2,
        "DEFAULT_LR": 3.0e-4,
        "DEFAULT_ADAM_EPS": 1.0e-5,
        "DEFAULT_VALUE_COEF": 0.5,
        "DEFAULT_MAX_GRAD_NORM": 0.5,
        "DEFAULT_ENTROPY_COEF": 0.05,
        "DEFAULT_ENTROPY_FLOOR": 0.02,
    }
    actual = {name: getattr(defaults, name) for name in expected}
    assert actual == expected
    # STANDARD tempo is the default ramp, and the tempo feature of the slowest tempo stays within [0, 1].
    assert esper.leyline.TEMPO_TO_EPOCHS[esper.leyline.TempoAction.STANDARD] == defaults.DEFAULT_BLENDING_TOTAL_STEPS
    assert max(esper.leyline.TEMPO_TO_EPOCHS.values()) / defaults.TEMPO_FEATURE_SCALE <= 1.0


@pytest.mark.req("DEC.leyline.7")
@given(
    logits=st.lists(st.floats(-50.0, 50.0), min_size=2, max_size=13),
    data=st.data(),
)
def test_masked_logit_gives_zero_probability_and_finite_log_probs(logits: list[float], data: st.DataObject) -> None:
    assert math.isfinite(defaults.MASKED_LOGIT) and defaults.MASKED_LOGIT <= -1e8
    mask = data.draw(st.lists(st.booleans(), min_size=len(logits), max_size=len(logits)).filter(any))
    x = torch.tensor(logits, dtype=torch.float32)
    m = torch.tensor(mask)
    masked = torch.where(m, x, torch.full_like(x, defaults.MASKED_LOGIT))
    log_p = torch.log_softmax(masked, dim=-1)
    assert torch.isfinite(log_p).all()
    p = log_p.exp()
    assert torch.equal(p[~m], torch.zeros_like(p[~m]))
    assert torch.allclose(p.sum(), torch.tensor(1.0))
    entropy = -(p * log_p).sum()
    assert torch.isfinite(entropy) and entropy >= 0


# --- telemetry ---------------------------------------------------------------------------------------------------


@pytest.mark.req("SYS.2.8")
def test_telemetry_event_types() -> None:
    values = [t.value for t in TelemetryEventType]
    assert len(set(values)) == len(values)
    assert all(v == v.lower() and " " not in v for v in values)
    required = {
        "seed_germinated",
        "seed_stage_changed",
        "seed_gate_evaluated",
        "seed_fossilized",
        "seed_culled",
        "epoch_completed",
        "ppo_update_completed",
        "governor_rollback",
        "checkpoint_saved",
        "checkpoint_loaded",
    }
    assert required <= set(values)


@pytest.mark.req("SYS.2.8", "DEC.leyline.9")
@given(
    event_type=st.sampled_from(list(TelemetryEventType)),
    data=st.dictionaries(
        st.text(max_size=8),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
        max_size=5,
    ),
    epoch=st.one_of(st.none(), st.integers(0, 1000)),
)
def test_telemetry_event_serialises_to_json(
    event_type: TelemetryEventType, data: dict[str, object], epoch: int | None
) -> None:
    event = TelemetryEvent(event_type, data=data, slot_id="r0c1", seed_id="s1", epoch=epoch)  # type: ignore[arg-type]
    record = event.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert record["event_type"] == event_type.value
    assert record["data"] == data and record["data"] is not event.data
    assert (record["slot_id"], record["seed_id"], record["epoch"]) == ("r0c1", "s1", epoch)


@pytest.mark.req("DEC.leyline.9")
@pytest.mark.parametrize("bad", [torch.tensor(1.0), [1, 2], {"a": 1}, object()])
def test_telemetry_event_rejects_non_primitive_data(bad: object) -> None:
    with pytest.raises(TypeError, match=r"data\['loss'\]"):
        TelemetryEvent(TelemetryEventType.EPOCH_COMPLETED, data={"loss": bad})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="data keys"):
        TelemetryEvent(TelemetryEventType.EPOCH_COMPLETED, data={1: 1.0})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="event_type"):
        TelemetryEvent("epoch_completed")  # type: ignore[arg-type]


@pytest.mark.req("T12.1", "DEC.leyline.9")
def test_seed_telemetry_tempo_fields() -> None:
    fields = {f.name: f for f in dataclasses.fields(SeedTelemetry)}
    assert fields["blend_tempo_epochs"].type == "int" and fields["blend_tempo_epochs"].default == 5
    assert fields["blending_velocity"].type == "float" and fields["blending_velocity"].default == 0.0
    telemetry = SeedTelemetry(seed_id="s", slot_id="r0c0", blend_tempo_epochs=8, blending_velocity=0.25)
    record = telemetry.to_dict()
    assert (record["blend_tempo_epochs"], record["blending_velocity"]) == (8, 0.25)
    assert set(record) == set(fields)
    assert json.loads(json.dumps(record)) == record


# --- seed reports -----------------------------------------------------------------------------------------------


def _report(stage: SeedStage, epochs_total: int = 3, alpha: float = 0.4) -> SeedStateReport:
    metrics = SeedMetricsReport(epochs_total=epochs_total, current_alpha=alpha)
    return SeedStateReport(slot_id="r0c0", seed_id="s", blueprint_id="depthwise", stage=stage, metrics=metrics)


@pytest.mark.req("DEC.leyline.5")
@given(stage=st.sampled_from(list(SeedStage)), epochs_total=st.integers(0, 5), alpha=st.floats(0.0, 1.0))
def test_seed_state_report_properties(stage: SeedStage, epochs_total: int, alpha: float) -> None:
    report = _report(stage, epochs_total, alpha)
    assert report.blueprint is BlueprintAction.DEPTHWISE
    assert report.alpha == alpha
    cullable = stage in esper.leyline.CULLABLE_STAGES and epochs_total >= defaults.MIN_CULL_AGE
    assert report.can_cull is cullable
    assert report.can_fossilize_stage is (stage == SeedStage.PROBATIONARY)
    assert report.in_cooldown is (stage in esper.leyline.COOLDOWN_STAGES)


@pytest.mark.req("DEC.leyline.5")
def test_seed_reports_are_read_only() -> None:
    report = _report(SeedStage.TRAINING)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.stage = SeedStage.BLENDING  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.metrics.current_alpha = 1.0  # type: ignore[misc]
    assert SeedStateReport.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert SeedMetricsReport.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert hash(report) == hash(_report(SeedStage.TRAINING))
    assert SeedStateReport("r0c0", "s", "norm", SeedStage.TRAINING).blend_tempo_epochs == 5
