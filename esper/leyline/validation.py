"""One way to validate arguments at Esper's public boundaries (issue 14, decision ``DEC.validation.1``).

The rule, everywhere: a value of the wrong **type** raises ``TypeError``; a value of the right type but outside
the allowed set raises ``ValueError``. Every message names the argument and what is allowed, e.g.
``"max_steps must be an int >= 1, got 0"``.

- ``bool`` is never accepted where a number is expected, and an ``enum.Enum`` member (``TempoAction.SLOW`` is an
  ``IntEnum``) is never accepted where a plain int is expected: both are almost always a caller's mistake.
- Python ints of any size are accepted by :func:`check_int`; :func:`check_float` turns an int too large for a
  float (``10**400``) into a ``ValueError`` instead of Python's ``OverflowError``.
- ``numpy`` scalars are accepted as numbers through :mod:`numbers` (``numbers.Integral``/``numbers.Real``).
- :func:`check_keys` and the ``read_*`` helpers read primitive dicts (the ``from_dict`` side of serialisation);
  :func:`dataclass_from_dict` builds a validating dataclass from such a dict.

Leyline imports no other esper package, so every package may use this module.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import numbers
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import torch

T = TypeVar("T")

MAX_COUNT = 2**63 - 1
"""Largest count (parameters, steps, epochs) accepted where a count meets float arithmetic: the int64 range of
``torch.Tensor.numel``. Larger Python ints would overflow a float (``OverflowError``) far from the boundary."""


def _bounds(low: float | None, high: float | None, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high == MAX_COUNT:
        return f"{'>' if low_open else '>='} {low} and < 2**63"
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high}")
    return " and ".join(parts)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_int(value: object) -> bool:
    """True for an integral number that is not a ``bool`` nor an ``Enum`` member."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, enum.Enum))


def is_real(value: object) -> bool:
    """True for a real number that is not a ``bool`` nor an ``Enum`` member."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, enum.Enum))


def check_int(name: str, value: object, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is an integer in ``[low, high]``.

    Raises ``TypeError`` for a non-integer (``bool``, enum members and floats included) and ``ValueError`` outside
    the bounds; both messages name ``name`` and the allowed range.
    """
    allowed = f"an int {_bounds(low, high)}".rstrip()
    if isinstance(value, (bool, enum.Enum)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} {_short(value)}")
    result = int(value)
    if (low is not None and result < low) or (high is not None and result > high):
        raise ValueError(f"{name} must be {allowed}, got {_short(result)}")
    return result


def check_float(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> float:
    """Return ``value`` as a ``float`` if it is a real number within the bounds.

    ``finite=True`` (the default) refuses NaN and infinities; ``finite=False`` lets them through (for raw values
    that may legitimately diverge, e.g. a loss; NaN passes the bounds). ``low_open``/``high_open`` make a bound
    exclusive. Raises ``TypeError`` for a non-number (``bool`` and ``str`` included) and ``ValueError`` for a
    non-finite value (when ``finite``), an out-of-range value or an int too large to be a float.
    """
    bounds = _bounds(low, high, low_open, high_open)
    allowed = ("a finite float" if finite else "a float") + (f" {bounds}" if bounds else "")
    if isinstance(value, (bool, enum.Enum)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} {_short(value)}")
    try:
        result = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be {allowed}, got an int too large for a float") from None
    if finite and not math.isfinite(result):
        raise ValueError(f"{name} must be {allowed}, got {result}")
    too_low = low is not None and (result <= low if low_open else result < low)
    too_high = high is not None and (result >= high if high_open else result > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be {allowed}, got {result!r}")
    return result


def check_optional_float(name: str, value: object, **bounds: Any) -> float | None:
    """``None`` or :func:`check_float` (same keyword bounds)."""
    return None if value is None else check_float(name, value, **bounds)


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is a ``bool`` (ints 0/1 are refused), else raise ``TypeError``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {_short(value)}")
    return value


def check_str(name: str, value: object, allowed: Collection[str] | None = None) -> str:
    """Return ``value`` if it is a ``str`` (and one of ``allowed`` when given); matching is exact."""
    if not isinstance(value, str):
        what = f"a str, one of {list(allowed)}" if allowed is not None else "a str"
        raise TypeError(f"{name} must be {what}, got {type(value).__name__} {_short(value)}")
    if allowed is not None and value not in allowed:
        raise ValueError(f"{name} {_short(value)} is unknown; valid: {list(allowed)}")
    return value


def check_instance(name: str, value: object, kind: type[T]) -> T:
    """Return ``value`` if it is an instance of ``kind``, else raise ``TypeError`` naming both."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be a {kind.__name__}, got {type(value).__name__} {_short(value)}")
    return value


def is_sequence(value: object) -> bool:
    """True for list/tuple-like sequences (``str`` and ``bytes`` excluded)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def check_sequence(name: str, value: object, *, min_len: int = 0) -> Sequence[object]:
    """Return ``value`` if it is a list/tuple-like sequence (not ``str``/``bytes``) of at least ``min_len`` items."""
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a list or tuple, got {type(value).__name__} {_short(value)}")
    if len(value) < min_len:
        raise ValueError(f"{name} must have at least {min_len} item(s), got {len(value)}")
    return value


def _dtype_name(dtype: torch.dtype | str) -> str:
    return dtype if isinstance(dtype, str) else str(dtype)


def check_tensor(
    name: str,
    value: object,
    *,
    shape: Sequence[int | None] | None = None,
    ndim: int | None = None,
    dtype: torch.dtype | str | Iterable[torch.dtype] | None = None,
    finite: bool = False,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Return ``value`` if it is a tensor of the given shape, dtype and device (finite when ``finite``).

    ``shape`` entries of ``None`` match any size; ``ndim`` checks only the rank. ``dtype`` is one dtype, several,
    or a kind: ``"float"`` (any floating dtype), ``"int"`` (any integer dtype, not bool). A non-tensor or a wrong
    dtype raises ``TypeError``; a wrong shape, device or a non-finite entry raises ``ValueError``.
    ``finite=True`` costs one host sync.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if dtype is not None:
        if dtype == "float":
            ok, want = value.is_floating_point(), "a floating dtype"
        elif dtype == "int":
            ok = not value.is_floating_point() and not value.is_complex() and value.dtype != torch.bool
            want = "an integer dtype"
        elif isinstance(dtype, torch.dtype):
            ok, want = value.dtype == dtype, _dtype_name(dtype)
        elif isinstance(dtype, str):
            raise ValueError(f"dtype kind must be 'float' or 'int', got {dtype!r}")
        else:
            options = tuple(dtype)
            ok, want = value.dtype in options, "one of " + ", ".join(_dtype_name(d) for d in options)
        if not ok:
            raise TypeError(f"{name} must have dtype {want}, got {_dtype_name(value.dtype)}")
    if ndim is not None and value.dim() != ndim:
        raise ValueError(f"{name} must be {ndim}-d, got shape {tuple(value.shape)}")
    if shape is not None:
        got = tuple(value.shape)
        if len(got) != len(shape) or any(w is not None and w != g for w, g in zip(shape, got)):
            want_shape = "(" + ", ".join("*" if w is None else str(w) for w in shape) + ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"{name} must have shape {want_shape}, got {got}")
    if device is not None and not same_device(value.device, device):
        raise ValueError(f"{name} must be on {device}, got {value.device}")
    if finite and value.numel() and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite (no NaN/inf)")
    return value


def same_device(a: torch.device, b: torch.device) -> bool:
    """``cuda`` and ``cuda:0`` count as the same device when one index is unspecified."""
    return a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


SUPPORTED_DEVICES = "'cpu', 'cuda' or 'cuda:N'"


def check_device(name: str, value: object, *, available: bool = False) -> torch.device:
    """``torch.device(value)`` for a ``str``/``torch.device``.

    A non-str raises ``TypeError``; a string torch cannot parse (``"bogus"``) raises ``ValueError``. With
    ``available=True`` a CUDA/MPS device this machine does not have also raises ``ValueError`` naming it.
    """
    if isinstance(value, torch.device):
        device = value
    elif isinstance(value, str):
        try:
            device = torch.device(value)
        except RuntimeError:
            raise ValueError(
                f"{name} {value!r} is not a device: {name} must name a torch device; valid: {SUPPORTED_DEVICES}"
            ) from None
    else:
        raise TypeError(f"{name} must be a str or torch.device ({SUPPORTED_DEVICES}), got {type(value).__name__}")
    if available:
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(
                    f"{name} {str(device)!r} does not exist: it is not available on this machine (0 CUDA device(s); "
                    "CUDA is not available), use 'cpu'"
                )
            count = torch.cuda.device_count()
            if device.index is not None and device.index >= count:
                raise ValueError(
                    f"{name} {str(device)!r} does not exist: it is not available on this machine ({count} CUDA device(s))"
                )
        elif device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"{name} {str(device)!r} is not available on this machine (no MPS)")
        elif device.type not in ("cpu", "cuda", "mps", "meta"):
            raise ValueError(f"{name} {str(device)!r} is not supported; use 'cpu', 'cuda[:i]' or 'mps'")
    return device


# --- from_dict side ----------------------------------------------------------------------------------------


def check_keys(data: object, what: str, required: Collection[str], optional: Collection[str] = ()) -> Mapping[str, object]:
    """Return ``data`` as a mapping after checking that required keys are present and no unknown keys exist.

    A non-mapping raises ``TypeError``; a missing or unknown key raises ``ValueError`` listing the allowed keys.
    """
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
    """``data[key]`` as a ``str`` (the message names ``what.key``)."""
    return check_str(f"{what}.{key}", data[key])


def read_int(data: Mapping[str, object], key: str, what: str, *, minimum: int = 0) -> int:
    """``data[key]`` as an ``int >= minimum``."""
    return check_int(f"{what}.{key}", data[key], low=minimum)


def read_float(data: Mapping[str, object], key: str, what: str, *, finite: bool = True) -> float:
    """``data[key]`` as a ``float``; NaN/inf are refused unless ``finite=False`` (e.g. seed health measurements,
    which may legitimately diverge)."""
    return check_float(f"{what}.{key}", data[key], finite=finite)


def read_optional_float(data: Mapping[str, object], key: str, what: str) -> float | None:
    """``data[key]`` as ``None`` or a finite ``float``."""
    return None if data[key] is None else read_float(data, key, what)


def read_bool(data: Mapping[str, object], key: str, what: str) -> bool:
    """``data[key]`` as a ``bool``."""
    return check_bool(f"{what}.{key}", data[key])


def dataclass_from_dict(cls: type[T], data: object) -> T:
    """Build dataclass ``cls`` from a primitive dict: keys must be field names (missing ones take defaults).

    The dataclass's own ``__post_init__`` validates the values, so a dict can never carry a value that the
    constructor would refuse. Raises ``TypeError`` for a non-dict and ``ValueError`` for an unknown key or a
    missing field without a default.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"cls must be a dataclass type, got {cls!r}")
    fields = [f for f in dataclasses.fields(cls) if f.init]
    required = [
        f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    mapping = check_keys(data, cls.__name__, required, [f.name for f in fields])
    return cls(**{str(k): v for k, v in mapping.items()})


__all__ = [
    "MAX_COUNT",
    "check_bool",
    "check_device",
    "check_float",
    "check_instance",
    "check_int",
    "check_keys",
    "check_optional_float",
    "check_sequence",
    "check_str",
    "check_tensor",
    "dataclass_from_dict",
    "is_int",
    "is_real",
    "is_sequence",
    "read_bool",
    "read_float",
    "read_int",
    "read_optional_float",
    "read_str",
    "same_device",
]
