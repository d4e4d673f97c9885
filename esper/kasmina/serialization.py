"""Strict readers for primitive dicts (``SeedState.from_dict``): every error names the field."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping


def check_keys(data: object, what: str, required: Collection[str], optional: Collection[str] = ()) -> Mapping[str, object]:
    """Return ``data`` as a mapping after checking that required keys are present and no unknown keys exist."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{what} must be a dict, got {type(data).__name__}")
    missing = [k for k in required if k not in data]
    if missing:
        raise ValueError(f"{what} is missing required field(s) {missing}")
    allowed = set(required) | set(optional)
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise ValueError(f"{what} has unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    return data


def read_str(data: Mapping[str, object], key: str, what: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{what}.{key} must be a str, got {type(value).__name__} {value!r}")
    return value


def read_int(data: Mapping[str, object], key: str, what: str, *, minimum: int = 0) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}.{key} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{what}.{key} must be >= {minimum}, got {value}")
    return value


def read_float(data: Mapping[str, object], key: str, what: str, *, finite: bool = True) -> float:
    """``data[key]`` as a float; NaN/inf are refused unless ``finite=False`` (health measurements may diverge)."""
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what}.{key} must be a float, got {type(value).__name__} {value!r}")
    result = float(value)
    if finite and not math.isfinite(result):
        raise ValueError(f"{what}.{key} must be finite, got {result}")
    return result


def read_optional_float(data: Mapping[str, object], key: str, what: str) -> float | None:
    return None if data[key] is None else read_float(data, key, what)


def read_bool(data: Mapping[str, object], key: str, what: str) -> bool:
    value = data[key]
    if not isinstance(value, bool):
        raise TypeError(f"{what}.{key} must be a bool, got {type(value).__name__} {value!r}")
    return value


__all__ = ["check_keys", "read_bool", "read_float", "read_int", "read_optional_float", "read_str"]
