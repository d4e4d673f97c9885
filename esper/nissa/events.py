"""Encoding telemetry events as strict JSON objects and decoding them back."""

from __future__ import annotations

import json
import math

from esper.leyline import TelemetryEvent, TelemetryEventType, TelemetryValue

EVENT_TYPE_VALUES: tuple[str, ...] = tuple(t.value for t in TelemetryEventType)


def parse_event_type(value: TelemetryEventType | str) -> TelemetryEventType:
    """The event type for an enum member or its string value; ``ValueError`` lists the valid values."""
    if isinstance(value, TelemetryEventType):
        return value
    if isinstance(value, str) and value in EVENT_TYPE_VALUES:
        return TelemetryEventType(value)
    raise ValueError(f"event_type {value!r} is unknown; valid: {list(EVENT_TYPE_VALUES)}")


def _finite_or_none(value: TelemetryValue) -> TelemetryValue:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def event_to_json(event: TelemetryEvent) -> str:
    """``event.to_dict()`` as one line of strict JSON (non-finite floats become ``null``)."""
    record = event.to_dict()
    data = {key: _finite_or_none(value) for key, value in event.data.items()}
    record["data"] = data
    record["timestamp"] = _finite_or_none(event.timestamp)
    return json.dumps(record, allow_nan=False, separators=(",", ":"))


def _optional(record: dict[str, object], key: str, kind: type) -> object:
    value = record.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ValueError(f"event field {key!r} must be {kind.__name__} or null, got {value!r}")
    return value


def event_from_dict(record: object) -> TelemetryEvent:
    """Inverse of ``TelemetryEvent.to_dict()``; ``ValueError`` names the offending field."""
    if not isinstance(record, dict):
        raise ValueError(f"telemetry record must be a JSON object, got {type(record).__name__}")
    event_type = parse_event_type(record.get("event_type", "<missing>"))
    raw_data = record.get("data", {})
    if not isinstance(raw_data, dict):
        raise ValueError(f"event field 'data' must be an object, got {raw_data!r}")
    data: dict[str, TelemetryValue] = {}
    for key, value in raw_data.items():
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"data[{key!r}] must be a number, string, bool or null, got {value!r}")
        data[str(key)] = value
    slot_id = _optional(record, "slot_id", str)
    seed_id = _optional(record, "seed_id", str)
    epoch = _optional(record, "epoch", int)
    timestamp = record.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        raise ValueError(f"event field 'timestamp' must be a number, got {timestamp!r}")
    return TelemetryEvent(
        event_type=event_type,
        data=data,
        slot_id=slot_id if isinstance(slot_id, str) else None,
        seed_id=seed_id if isinstance(seed_id, str) else None,
        epoch=epoch if isinstance(epoch, int) else None,
        timestamp=float(timestamp),
    )


__all__ = ["EVENT_TYPE_VALUES", "event_from_dict", "event_to_json", "parse_event_type"]
