"""Agent checkpoints: versioned payload with the policy layout, written atomically, loaded with ``weights_only``.

Plan "Checkpoint Incompatibility Notice": the tempo lever changed the observation (17 -> 18 features per slot)
and the action space (4 -> 5 heads). A checkpoint records its :class:`PolicyLayout`; loading one whose layout
differs from the agent's raises :class:`CheckpointIncompatibleError` naming both layouts (instead of a bare
``size mismatch for feature_net.0.weight``). There is no migration: train from scratch.

Integrity (issue 13, ``DEC.reliability.4``-``6``): the payload stores a SHA-256 of its canonical content
(:func:`payload_digest`) that is verified at load, so a flipped byte inside a tensor is reported instead of loaded.
Every value :func:`save_checkpoint` accepts loads back: numeric scalars of other libraries (numpy) are converted
to Python numbers at save, anything ``torch.load(weights_only=True)`` could not read back is refused at save.
"""

from __future__ import annotations

import enum
import hashlib
import math
import numbers
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from esper.simic.atomic import atomic_write
from esper.simic.devices import check_available_device

FORMAT_TAG = "esper.simic.agent.checkpoint"
FORMAT_VERSION = 2
"""2: adds the ``sha256`` content hash (version-1 files are refused: train from scratch)."""
DIGEST_KEY = "sha256"

Primitive = str | int | float | bool | None
_PRIMITIVES = (str, int, float, bool)


class CheckpointError(ValueError):
    """Base class of checkpoint loading errors."""


class CheckpointFormatError(CheckpointError):
    """The file is not a (readable, supported) Esper agent checkpoint."""


class CheckpointIncompatibleError(CheckpointError):
    """The checkpoint was written for another policy layout (observation size, heads, head sizes...)."""


@dataclass(frozen=True)
class PolicyLayout:
    """What a policy's parameters are shaped by; two agents can share weights only if these agree.

    ``slot_feature_size`` is given by the caller (Tamiyo's ``SLOT_FEATURE_SIZE``); ``None`` means unknown and
    is not compared.
    """

    obs_dim: int
    head_names: tuple[str, ...]
    head_sizes: dict[str, int]
    num_slots: int
    hidden_dim: int
    slot_feature_size: int | None = None

    def __post_init__(self) -> None:
        for name in ("obs_dim", "num_slots", "hidden_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"PolicyLayout.{name} must be an int >= 1, got {value!r}")
        sfs = self.slot_feature_size
        if sfs is not None and (isinstance(sfs, bool) or not isinstance(sfs, int) or sfs < 1):
            raise ValueError(f"PolicyLayout.slot_feature_size must be None or an int >= 1, got {sfs!r}")
        if list(self.head_sizes) != list(self.head_names):
            raise ValueError(
                f"PolicyLayout.head_sizes keys {list(self.head_sizes)} must equal head_names {list(self.head_names)}"
            )

    def describe(self) -> str:
        heads = ", ".join(f"{name}:{size}" for name, size in self.head_sizes.items())
        return (
            f"obs_dim={self.obs_dim}, slot_feature_size={self.slot_feature_size}, num_slots={self.num_slots}, "
            f"hidden_dim={self.hidden_dim}, {len(self.head_names)} heads ({heads})"
        )

    def differences(self, other: PolicyLayout) -> list[str]:
        """Human-readable ``field: self != other`` lines (``slot_feature_size`` only when both are known)."""
        diffs: list[str] = []
        for name in ("obs_dim", "num_slots", "hidden_dim", "head_names", "head_sizes"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                diffs.append(f"{name}: {theirs!r} != {mine!r}")
        if None not in (self.slot_feature_size, other.slot_feature_size):
            if self.slot_feature_size != other.slot_feature_size:
                diffs.append(f"slot_feature_size: {other.slot_feature_size!r} != {self.slot_feature_size!r}")
        return diffs

    def to_dict(self) -> dict[str, object]:
        return {
            "obs_dim": self.obs_dim,
            "head_names": list(self.head_names),
            "head_sizes": dict(self.head_sizes),
            "num_slots": self.num_slots,
            "hidden_dim": self.hidden_dim,
            "slot_feature_size": self.slot_feature_size,
        }

    @classmethod
    def from_dict(cls, data: object) -> PolicyLayout:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on a malformed dict."""
        if not isinstance(data, dict):
            raise ValueError(f"layout must be a dict, got {type(data).__name__}")
        names, sizes = data.get("head_names"), data.get("head_sizes")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"layout head_names must be a list of str, got {names!r}")
        if not isinstance(sizes, dict) or not all(isinstance(k, str) and isinstance(v, int) for k, v in sizes.items()):
            raise ValueError(f"layout head_sizes must be a dict of str -> int, got {sizes!r}")
        ints = {key: data.get(key) for key in ("obs_dim", "num_slots", "hidden_dim")}
        if not all(isinstance(v, int) for v in ints.values()):
            raise ValueError(f"layout obs_dim/num_slots/hidden_dim must be ints, got {ints!r}")
        sfs = data.get("slot_feature_size")
        if sfs is not None and not isinstance(sfs, int):
            raise ValueError(f"layout slot_feature_size must be an int or None, got {sfs!r}")
        obs_dim, num_slots, hidden_dim = (data["obs_dim"], data["num_slots"], data["hidden_dim"])
        assert isinstance(obs_dim, int) and isinstance(num_slots, int) and isinstance(hidden_dim, int)
        return cls(
            obs_dim=obs_dim,
            head_names=tuple(names),
            head_sizes={str(k): int(v) for k, v in sizes.items()},
            num_slots=num_slots,
            hidden_dim=hidden_dim,
            slot_feature_size=sfs,
        )


@dataclass
class Checkpoint:
    """A loaded checkpoint."""

    path: Path
    layout: PolicyLayout
    network: dict[str, torch.Tensor]
    optimizer: dict[str, object]
    config: dict[str, object]
    normalizer: dict[str, object] | None
    extra: dict[str, Primitive] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION


def check_extra(extra: Mapping[str, object] | None) -> dict[str, Primitive]:
    """``extra`` as a plain dict of primitives; ``TypeError`` naming the offending key otherwise."""
    if extra is None:
        return {}
    if not isinstance(extra, Mapping):
        raise TypeError(f"extra must be a dict of str -> str/int/float/bool/None, got {type(extra).__name__}")
    out: dict[str, Primitive] = {}
    for key, value in extra.items():
        if not isinstance(key, str):
            raise TypeError(f"extra keys must be str, got {key!r}")
        plain = _plain_scalar(value)
        if plain is _NOT_SCALAR:
            raise TypeError(f"extra[{key!r}] must be str, int, float, bool or None, got {type(value).__name__}")
        assert plain is None or isinstance(plain, _PRIMITIVES)
        out[key] = plain
    return out


_NOT_SCALAR: Any = object()


def _plain_scalar(value: object) -> object:
    """``value`` as a built-in ``None``/``bool``/``int``/``float``/``str`` (numpy and other ``numbers`` scalars
    converted); :data:`_NOT_SCALAR` for anything else, enum members included (store ``.name`` or ``.value``)."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return _NOT_SCALAR
    if isinstance(value, (bool, np.bool_)):  # numpy.bool_ is not a numbers.Integral
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return _NOT_SCALAR


def _plain(where: str, value: object) -> object:
    """A copy of ``value`` that ``torch.load(weights_only=True)`` reads back as-is; ``TypeError`` naming ``where``."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, Mapping):
        return {key: _plain(f"{where}[{key!r}]", item) for key, item in value.items() if _check_key(where, key)}
    if isinstance(value, (list, tuple)):
        items = [_plain(f"{where}[{i}]", item) for i, item in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    plain = _plain_scalar(value)
    if plain is _NOT_SCALAR:
        raise TypeError(
            f"{where} is a {type(value).__name__}, which a checkpoint cannot store; "
            "valid: tensors, dicts, lists, tuples, str, int, float, bool, None"
        )
    return plain


def _check_key(where: str, key: object) -> bool:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(f"{where}: dict keys must be str or int, got {type(key).__name__} {key!r}")
    return True


def _feed(digest: Any, value: object) -> None:
    """Hash ``value`` canonically: type tags, dict keys sorted, tensors by dtype, shape and raw bytes (on CPU)."""
    if isinstance(value, torch.Tensor):
        data = value.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"T{data.dtype}{tuple(value.shape)};".encode())
        digest.update(data.view(torch.uint8).numpy())
    elif isinstance(value, Mapping):
        digest.update(f"D{len(value)};".encode())
        for key in sorted(value, key=lambda k: (type(k).__name__, repr(k))):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{'L' if isinstance(value, list) else 'U'}{len(value)};".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def payload_digest(payload: Mapping[str, object]) -> str:
    """SHA-256 (hex) of a checkpoint payload's canonical content, ignoring its own ``sha256`` entry."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in payload.items() if k != DIGEST_KEY})
    return digest.hexdigest()


def check_finite(where: str, tensors: Iterable[tuple[str, object]]) -> None:
    """``CheckpointFormatError`` naming ``where`` and the entry when a floating tensor holds NaN or inf."""
    for name, value in tensors:
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointFormatError(f"{where}: {name} holds non-finite values (NaN or inf); refusing to load it")


def check_optimizer_state(where: str, state: Mapping[str, object], params: list[torch.Tensor]) -> None:
    """Optimizer ``state_dict`` moments must match their parameter's shape and be finite.

    ``params`` are the optimiser's parameters in ``param_groups`` order (the indices of ``state``). Raises
    :class:`CheckpointFormatError` naming the parameter index and the moment.
    """
    per_param = state.get("state")
    if not isinstance(per_param, Mapping):
        raise CheckpointFormatError(f"{where}: optimizer state must hold a 'state' dict")
    for index, moments in per_param.items():
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(params):
            raise CheckpointFormatError(f"{where}: optimizer state for parameter {index!r}; valid: 0..{len(params) - 1}")
        if not isinstance(moments, Mapping):
            raise CheckpointFormatError(f"{where}: optimizer state of parameter {index} must be a dict")
        for key, value in moments.items():
            if not isinstance(value, torch.Tensor):
                continue
            if value.dim() > 0 and value.shape != params[index].shape:
                raise CheckpointFormatError(
                    f"{where}: optimizer {key!r} of parameter {index} has shape {tuple(value.shape)}, "
                    f"the parameter has {tuple(params[index].shape)}"
                )
            check_finite(where, [(f"optimizer {key!r} of parameter {index}", value)])
    groups = state.get("param_groups")
    if isinstance(groups, list):
        for group in groups:
            if isinstance(group, Mapping):
                for key, value in group.items():
                    if isinstance(value, float) and not math.isfinite(value):
                        raise CheckpointFormatError(f"{where}: optimizer param_group {key!r} is {value!r}")


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    layout: PolicyLayout,
    network_state: Mapping[str, torch.Tensor],
    optimizer_state: Mapping[str, object],
    config: Mapping[str, object],
    normalizer_state: Mapping[str, object] | None,
    extra: Mapping[str, object] | None = None,
) -> Path:
    """Write the checkpoint atomically (temp file in the same directory, fsync, ``os.replace``) with its hash.

    Numeric scalars of other libraries (``numpy.float64``...) are stored as Python numbers; a value that could not
    be loaded back (an enum member, an array, an arbitrary object) raises ``TypeError`` naming where it is.
    """
    target = Path(path)
    parts: dict[str, object] = {
        "network": dict(network_state),
        "optimizer": dict(optimizer_state),
        "config": dict(config),
        "normalizer": None if normalizer_state is None else dict(normalizer_state),
    }
    payload: dict[str, object] = {
        "format": FORMAT_TAG,
        "format_version": FORMAT_VERSION,
        "layout": layout.to_dict(),
        **{key: _plain(key, value) for key, value in parts.items()},
        "extra": check_extra(extra),
    }
    payload[DIGEST_KEY] = payload_digest(payload)
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(target, lambda handle: torch.save(payload, handle))


def _read_payload(path: Path, map_location: str | torch.device) -> dict[str, object]:
    """``torch.load(weights_only=True)`` as a typed dict; unreadable or foreign files -> CheckpointFormatError."""
    check_available_device("map_location", map_location)
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory, not a checkpoint file", str(path))
    try:
        raw: object = torch.load(path, map_location=map_location, weights_only=True)
    except OSError:
        raise
    except Exception as exc:
        raise CheckpointFormatError(
            f"{path} is not a readable Esper agent checkpoint (truncated, corrupted or not a torch file): {exc}"
        ) from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_TAG:
        raise CheckpointFormatError(
            f"{path} is not an Esper agent checkpoint (missing format tag {FORMAT_TAG!r}); "
            "was it written by PPOAgent.save / save_checkpoint?"
        )
    return {str(k): v for k, v in raw.items()}


def load_checkpoint(
    path: str | os.PathLike[str],
    expected_layout: PolicyLayout | None = None,
    map_location: str | torch.device = "cpu",
) -> Checkpoint:
    """Read and validate a checkpoint; with ``expected_layout`` also check that the layouts agree."""
    source = Path(path)
    payload = _read_payload(source, map_location)
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointFormatError(f"{source}: format_version {version!r} is unsupported; this build reads {FORMAT_VERSION}")
    stored = payload.get(DIGEST_KEY)
    actual = payload_digest(payload)
    if stored != actual:
        raise CheckpointFormatError(
            f"{source}: content hash mismatch (stored {stored!r}, computed {actual!r}): "
            "the file was modified or corrupted after it was written"
        )
    try:
        layout = PolicyLayout.from_dict(payload.get("layout"))
    except ValueError as exc:
        raise CheckpointFormatError(f"{source}: malformed layout metadata: {exc}") from exc
    if expected_layout is not None:
        diffs = expected_layout.differences(layout)
        if diffs:
            raise CheckpointIncompatibleError(
                f"checkpoint {source} was written for another policy layout and cannot be loaded.\n"
                f"  expected: {expected_layout.describe()}\n"
                f"  found:    {layout.describe()}\n"
                f"  differences (found != expected): {'; '.join(diffs)}\n"
                "The observation/action layout changed (e.g. the blend-tempo lever: 18 features per slot, 5 heads); "
                "there is no migration path, train a new agent from scratch."
            )
    network, optimizer, config = payload.get("network"), payload.get("optimizer"), payload.get("config")
    normalizer, extra = payload.get("normalizer"), payload.get("extra")
    if not isinstance(network, dict) or not all(isinstance(v, torch.Tensor) for v in network.values()):
        raise CheckpointFormatError(f"{source}: 'network' must be a state dict of tensors")
    for key, part in (("optimizer", optimizer), ("config", config), ("extra", extra)):
        if not isinstance(part, dict):
            raise CheckpointFormatError(f"{source}: {key!r} must be a dict, got {type(part).__name__}")
    if normalizer is not None and not isinstance(normalizer, dict):
        raise CheckpointFormatError(f"{source}: 'normalizer' must be a dict or None, got {type(normalizer).__name__}")
    assert isinstance(optimizer, dict) and isinstance(config, dict) and isinstance(extra, dict)
    try:
        checked_extra = check_extra(extra)
    except TypeError as exc:
        raise CheckpointFormatError(f"{source}: {exc}") from exc
    return Checkpoint(
        path=source,
        layout=layout,
        network={str(k): v for k, v in network.items()},
        optimizer={str(k): v for k, v in optimizer.items()},
        config={str(k): v for k, v in config.items()},
        normalizer=None if normalizer is None else {str(k): v for k, v in normalizer.items()},
        extra=checked_extra,
        format_version=FORMAT_VERSION,
    )


__all__ = [
    "FORMAT_TAG",
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "CheckpointFormatError",
    "CheckpointIncompatibleError",
    "PolicyLayout",
    "DIGEST_KEY",
    "Primitive",
    "check_extra",
    "check_finite",
    "check_optimizer_state",
    "payload_digest",
    "load_checkpoint",
    "save_checkpoint",
]
