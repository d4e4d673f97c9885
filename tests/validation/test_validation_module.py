"""The one validation module (esper.leyline.validation): one rule, one message shape (issue 14, DEC.validation.1)."""

from __future__ import annotations

import ast
import dataclasses
import enum
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from esper.leyline import TempoAction
from esper.leyline.validation import (
    MAX_COUNT,
    check_bool,
    check_device,
    check_float,
    check_int,
    check_keys,
    check_str,
    check_tensor,
    dataclass_from_dict,
    read_bool,
    read_float,
    read_int,
)
from esper.simic.agent.rollout_buffer import TamiyoRolloutBuffer

pytestmark = pytest.mark.req("ISSUE.14.50", "DEC.validation.1")


class _Color(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    ("value", "error"),
    [(True, TypeError), (_Color.RED, TypeError), (TempoAction.SLOW, TypeError), (1.0, TypeError), ("1", TypeError),
     (None, TypeError), (0, ValueError), (-5, ValueError), (11, ValueError)],
)
def test_check_int_one_rule(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"^n must be an int in \[1, 10\], got "):
        check_int("n", value, low=1, high=10)


def test_check_int_accepts_numpy_and_returns_int() -> None:
    result = check_int("n", np.int64(7), low=0)
    assert result == 7 and type(result) is int
    assert check_int("n", 10**400) == 10**400  # unbounded Python ints are fine without a bound...
    with pytest.raises(ValueError, match=r"n must be an int >= 0 and < 2\*\*63, got"):
        check_int("n", 10**400, low=0, high=MAX_COUNT)  # ...and refused with ValueError (not OverflowError) with one


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (math.nan, ValueError, r"x must be a finite float in \[0.0, 1.0\], got nan"),
        (math.inf, ValueError, r"got inf"),
        (10**400, ValueError, r"an int too large for a float"),
        (1.5, ValueError, r"got 1.5"),
        ("0.1", TypeError, r"x must be a finite float in \[0.0, 1.0\], got str '0.1'"),
        (False, TypeError, r"got bool False"),
        (None, TypeError, r"got NoneType"),
    ],
)
def test_check_float_one_rule(value: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        check_float("x", value, low=0.0, high=1.0)


def test_check_float_open_bounds_and_non_finite_opt_in() -> None:
    assert check_float("x", 3) == 3.0 and type(check_float("x", np.float32(0.5))) is float
    with pytest.raises(ValueError, match=r"x must be a finite float > 0.0, got 0.0"):
        check_float("x", 0.0, low=0.0, low_open=True)
    assert math.isnan(check_float("x", math.nan, finite=False))
    assert check_float("x", math.inf, finite=False) == math.inf


def test_check_bool_str_device() -> None:
    assert check_bool("flag", True) is True
    with pytest.raises(TypeError, match="flag must be a bool, got int 1"):
        check_bool("flag", 1)
    assert check_str("mode", "a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"mode 'A' is unknown; valid: \['a', 'b'\]"):
        check_str("mode", "A", ("a", "b"))
    with pytest.raises(TypeError, match=r"mode must be a str, one of \['a', 'b'\], got list"):
        check_str("mode", ["a"], ("a", "b"))
    assert check_device("device", "cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device must name a torch device"):
        check_device("device", "bogus")
    with pytest.raises(TypeError, match="device must be a str or torch.device"):
        check_device("device", 0.5)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"device 'cuda:3' does not exist: it is not available on this machine \(0 CUDA"):
            check_device("device", "cuda:3", available=True)


def test_check_tensor() -> None:
    x = torch.zeros(2, 3)
    assert check_tensor("x", x, shape=(2, None), dtype="float", finite=True) is x
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        check_tensor("x", [0.0])
    with pytest.raises(TypeError, match="x must have dtype torch.int64, got torch.float32"):
        check_tensor("x", x, dtype=torch.long)
    with pytest.raises(TypeError, match="x must have dtype an integer dtype, got torch.bool"):
        check_tensor("x", torch.zeros(2, dtype=torch.bool), dtype="int")
    with pytest.raises(ValueError, match=r"x must have shape \(2, 4\), got \(2, 3\)"):
        check_tensor("x", x, shape=(2, 4))
    with pytest.raises(ValueError, match=r"x must have shape \(\*, \*, \*\), got \(2, 3\)"):
        check_tensor("x", x, shape=(None, None, None))
    with pytest.raises(ValueError, match="x must be finite"):
        check_tensor("x", torch.tensor([0.0, math.nan]), finite=True)


@pytest.mark.req("ISSUE.14.51")
def test_from_dict_helpers() -> None:
    d = check_keys({"a": 1, "b": 2.5, "c": True}, "thing", ["a"], ["b", "c"])
    assert read_int(d, "a", "thing") == 1 and read_float(d, "b", "thing") == 2.5 and read_bool(d, "c", "thing")
    with pytest.raises(TypeError, match="thing must be a dict, got list"):
        check_keys([], "thing", ["a"])
    with pytest.raises(ValueError, match=r"thing is missing required field\(s\) \['a'\]"):
        check_keys({}, "thing", ["a"])
    with pytest.raises(TypeError, match="thing.a must be an int >= 0, got str"):
        read_int({"a": "1"}, "a", "thing")

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        n: int
        x: float = 0.5

        def __post_init__(self) -> None:
            check_int("Cfg.n", self.n, low=1)
            object.__setattr__(self, "x", check_float("Cfg.x", self.x, low=0.0))

    assert dataclass_from_dict(Cfg, {"n": 2}) == Cfg(2, 0.5)
    assert dataclass_from_dict(Cfg, {"n": 2, "x": 1}).x == 1.0  # JSON ints become floats
    with pytest.raises(ValueError, match=r"Cfg has unknown field\(s\) \['y'\]; allowed: \['n', 'x'\]"):
        dataclass_from_dict(Cfg, {"n": 2, "y": 0})
    with pytest.raises(ValueError, match=r"Cfg is missing required field\(s\) \['n'\]"):
        dataclass_from_dict(Cfg, {})
    with pytest.raises(TypeError, match="Cfg.n must be an int >= 1"):
        dataclass_from_dict(Cfg, {"n": "2"})


_OLD_COPY = "isinstance(value, bool) or not isinstance(value, int)"


@pytest.mark.req("ISSUE.14.52")
def test_no_private_copies_of_the_int_check_remain() -> None:
    """The ~10 private copies of the int >= 1 check are gone: only esper/leyline/validation.py defines one."""
    root = Path(__file__).resolve().parents[2] / "esper"
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "validation.py" and path.parent.name == "leyline":
            continue
        text = path.read_text()
        if _OLD_COPY in text:
            offenders.append(str(path.relative_to(root)))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and node.name in {"check_positive_int", "_positive", "_check_int"}:
                offenders.append(f"{path.relative_to(root)}:{node.name}")
    assert offenders == []
    assert not (root / "tamiyo" / "_validation.py").exists() and not (root / "kasmina" / "serialization.py").exists()


@pytest.mark.req("ISSUE.14.53")
def test_add_batch_is_keyword_only() -> None:
    buffer = TamiyoRolloutBuffer(1, 2, 3, {"slot": 3, "blueprint": 13, "blend": 3, "tempo": 3, "op": 4}, 4)
    with pytest.raises(TypeError, match="positional argument"):
        buffer.add_batch(torch.zeros(1, 3))  # type: ignore[misc]
