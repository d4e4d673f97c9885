"""Small argument checks shared by Tamiyo modules (messages name the argument and the allowed values)."""

from __future__ import annotations

from collections.abc import Sequence


def is_sequence(value: object) -> bool:
    """True for list/tuple-like sequences (strings and bytes excluded)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def check_int(name: str, value: object, low: int) -> int:
    """Return ``value`` if it is an int (not bool) >= ``low``, else raise ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value
