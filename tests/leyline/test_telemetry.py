"""Unit tests of the telemetry records."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from esper.leyline import SeedStage, SeedTelemetry, TelemetryEvent, TelemetryEventType


def test_event_to_dict_has_fixed_keys_and_copies_data() -> None:
    before = time.time()
    event = TelemetryEvent(TelemetryEventType.SEED_GERMINATED, data={"blueprint_id": "norm", "tempo": 3})
    record = event.to_dict()
    assert list(record) == ["event_type", "slot_id", "seed_id", "epoch", "timestamp", "data"]
    assert record["event_type"] == "seed_germinated"
    assert (record["slot_id"], record["seed_id"], record["epoch"]) == (None, None, None)
    assert isinstance(record["timestamp"], float) and before <= record["timestamp"] <= time.time()
    data = record["data"]
    assert isinstance(data, dict)
    data["tempo"] = 8
    assert event.data["tempo"] == 3


def test_events_do_not_share_default_data() -> None:
    a = TelemetryEvent(TelemetryEventType.EPOCH_COMPLETED)
    b = TelemetryEvent(TelemetryEventType.EPOCH_COMPLETED)
    assert a.data == {} and a.data is not b.data


def test_enum_and_numpy_float64_values_serialise() -> None:
    """IntEnum/str-enum members and np.float64 subclass int/str/float, so they are accepted and JSON-encodable."""
    event = TelemetryEvent(
        TelemetryEventType.SEED_STAGE_CHANGED,
        data={"to": SeedStage.BLENDING, "kind": TelemetryEventType.SEED_CULLED, "acc": np.float64(51.5)},
        epoch=4,
    )
    decoded = json.loads(json.dumps(event.to_dict()))
    assert decoded["data"] == {"to": 4, "kind": "seed_culled", "acc": 51.5}
    assert decoded["epoch"] == 4


@pytest.mark.parametrize("bad", [np.float32(1.0), np.int64(2)])
def test_numpy_scalars_that_are_not_python_numbers_are_rejected(bad: object) -> None:
    with pytest.raises(TypeError, match=r"data\['x'\] must be float, int, str, bool or None"):
        TelemetryEvent(TelemetryEventType.EPOCH_COMPLETED, data={"x": bad})  # type: ignore[dict-item]


def test_seed_telemetry_defaults_and_mutation() -> None:
    telemetry = SeedTelemetry()
    assert telemetry.to_dict() == {
        "seed_id": "",
        "slot_id": "",
        "blueprint_id": "",
        "stage": 0,
        "alpha": 0.0,
        "accuracy": 0.0,
        "accuracy_delta": 0.0,
        "epochs_in_stage": 0,
        "gradient_norm_ratio": 0.0,
        "counterfactual_contribution": None,
        "blend_tempo_epochs": 5,
        "blending_velocity": 0.0,
    }
    telemetry.blend_tempo_epochs = 3
    telemetry.blending_velocity = 1.0 / 3.0
    record = telemetry.to_dict()
    assert record["blend_tempo_epochs"] == 3 and record["blending_velocity"] == pytest.approx(1.0 / 3.0)
    record["alpha"] = 9.0
    assert telemetry.alpha == 0.0
    with pytest.raises(AttributeError):
        telemetry.unknown_field = 1  # type: ignore[attr-defined]
