"""Checkpoints can't lie (issue 13 item 2): content hash, validated moments and finiteness, save == load, devices."""

from __future__ import annotations

import enum
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from esper.simic.agent import CheckpointFormatError, PPOAgent, load_checkpoint
from esper.simic.agent.checkpoint import FORMAT_VERSION, payload_digest
from esper.simic.devices import check_available_device

DIM = 12


def _agent() -> PPOAgent:
    torch.manual_seed(0)
    agent = PPOAgent(DIM, hidden_dim=8)
    agent.normalize_obs(torch.randn(20, DIM), update=True)
    # One optimiser step so that Adam has moments to validate.
    loss = sum(p.sum() for p in agent.network.parameters())
    assert isinstance(loss, torch.Tensor)
    loss.backward()
    agent.optimizer.step()
    return agent


def _resave(path: Path, edit: object, *, rehash: bool = True) -> None:
    """Edit a stored payload in place (``edit(payload)``), re-sealing its hash so that only the edit is judged."""
    payload = torch.load(path, weights_only=True)
    edit(payload)  # type: ignore[operator]
    if rehash:
        payload["sha256"] = payload_digest(payload)
    torch.save(payload, path)


@pytest.mark.req("ISSUE.13.10", "DEC.reliability.4")
def test_a_flipped_bit_inside_a_tensor_is_detected(tmp_path: Path) -> None:
    agent = _agent()
    path = agent.save(tmp_path / "a.pt")
    weight = agent.network.state_dict()["feature_net.0.weight"]
    needle = weight.reshape(-1)[:4].numpy().tobytes()
    raw = bytearray(path.read_bytes())
    at = raw.find(needle)
    assert at > 0, "tensor bytes not found uncompressed in the zip"
    raw[at + 1] ^= 0x01  # one bit of one float32 of a stored tensor
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path):  # still a well-formed zip that torch loads without complaint...
        pass
    torch.load(path, weights_only=True)
    with pytest.raises(CheckpointFormatError, match="content hash mismatch"):  # ...but the hash catches it
        PPOAgent(DIM, hidden_dim=8).load(path)


@pytest.mark.req("ISSUE.13.10", "DEC.reliability.4")
def test_edited_values_and_missing_or_old_hashes_are_refused(tmp_path: Path) -> None:
    path = _agent().save(tmp_path / "a.pt")
    _resave(path, lambda p: p["config"].__setitem__("lr", 1.0), rehash=False)
    with pytest.raises(CheckpointFormatError, match="content hash mismatch"):
        load_checkpoint(path)
    _resave(path, lambda p: p.pop("sha256"), rehash=False)
    with pytest.raises(CheckpointFormatError, match="stored None"):
        load_checkpoint(path)
    _resave(path, lambda p: p.__setitem__("format_version", 1))
    with pytest.raises(CheckpointFormatError, match=f"format_version 1 is unsupported; this build reads {FORMAT_VERSION}"):
        load_checkpoint(path)


@pytest.mark.req("ISSUE.13.11", "DEC.reliability.4")
@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda p: p["optimizer"]["state"][0].__setitem__("exp_avg", torch.zeros(3, 3)), r"optimizer 'exp_avg' of parameter 0 has shape \(3, 3\)"),
        (lambda p: p["optimizer"]["state"][1]["exp_avg_sq"].fill_(float("nan")), r"optimizer 'exp_avg_sq' of parameter 1 holds non-finite"),
        (lambda p: p["optimizer"]["state"].__setitem__(999, {}), r"optimizer state for parameter 999"),
        (lambda p: p["network"]["feature_net.0.weight"].fill_(float("nan")), r"network weight 'feature_net.0.weight' holds non-finite"),
        (lambda p: p["normalizer"]["mean"].fill_(float("nan")), r"normaliser 'mean' holds non-finite"),
        (lambda p: p["normalizer"]["var"].fill_(float("inf")), r"normaliser 'var' holds non-finite"),
    ],
    ids=["moment-shape", "moment-nan", "moment-index", "weights-nan", "normaliser-nan", "normaliser-inf"],
)
def test_bad_moments_and_non_finite_state_are_refused_before_loading(tmp_path: Path, edit: object, needle: str) -> None:
    path = _agent().save(tmp_path / "a.pt")
    _resave(path, edit)
    target = PPOAgent(DIM, hidden_dim=8)
    before = {k: v.clone() for k, v in target.network.state_dict().items()}
    with pytest.raises(CheckpointFormatError, match=needle):
        target.load(path)
    assert all(torch.equal(v, before[k]) for k, v in target.network.state_dict().items())  # untouched


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.req("ISSUE.13.12", "DEC.reliability.5")
def test_every_value_save_accepts_loads_back(tmp_path: Path) -> None:
    agent = _agent()
    extra = {
        "f64": np.float64(1.5),
        "f32": np.float32(0.25),
        "i64": np.int64(7),
        "u8": np.uint8(3),
        "flag": np.bool_(True),
        "frac": Fraction(1, 4),
        "inf": float("inf"),
        "text": "ok",
        "none": None,
    }
    path = agent.save(tmp_path / "a.pt", extra=extra)
    loaded = PPOAgent(DIM, hidden_dim=8).load(path)
    assert loaded == {"f64": 1.5, "f32": 0.25, "i64": 7, "u8": 3, "flag": True, "frac": 0.25, "inf": float("inf"), "text": "ok", "none": None}
    assert [type(v) for v in loaded.values()] == [float, float, int, int, bool, float, float, str, type(None)]


@pytest.mark.req("ISSUE.13.12", "DEC.reliability.5")
@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"tempo": Colour.RED}, r"extra\['tempo'\] must be str, int, float, bool or None, got Colour"),
        ({"arr": np.zeros(2)}, r"extra\['arr'\] must be .* got ndarray"),
        ({"c": 1j}, r"extra\['c'\] must be .* got complex"),
    ],
)
def test_unloadable_extra_values_are_refused_at_save(tmp_path: Path, extra: dict[str, object], needle: str) -> None:
    with pytest.raises(TypeError, match=needle):
        _agent().save(tmp_path / "a.pt", extra=extra)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.req("ISSUE.13.12", "DEC.reliability.5")
def test_foreign_scalars_in_the_ppo_config_are_stored_as_python_numbers(tmp_path: Path) -> None:
    agent = _agent()
    object.__setattr__(agent.config, "lr", np.float64(1e-3))  # as if a caller passed a numpy float
    path = agent.save(tmp_path / "a.pt")
    assert type(torch.load(path, weights_only=True)["config"]["lr"]) is float
    assert PPOAgent(DIM, hidden_dim=8).load(path) == {}


@pytest.mark.req("ISSUE.13.13", "DEC.reliability.7")
@pytest.mark.parametrize(
    ("device", "needle"),
    [
        ("bogus", r"map_location 'bogus' is not a device: .*valid: 'cpu', 'cuda' or 'cuda:N'"),
        ("meta", r"map_location 'meta' is not supported"),
        ("cuda:97", r"map_location 'cuda:97' does not exist"),
    ],
)
def test_a_missing_device_is_named_not_reported_as_corruption(tmp_path: Path, device: str, needle: str) -> None:
    path = _agent().save(tmp_path / "a.pt")
    with pytest.raises(ValueError, match=needle) as info:
        load_checkpoint(path, map_location=device)
    assert not isinstance(info.value, CheckpointFormatError)
    with pytest.raises(ValueError, match=needle.replace("map_location", "device")):
        PPOAgent.from_checkpoint(path, device=device)


@pytest.mark.req("ISSUE.13.13", "DEC.reliability.7")
def test_check_available_device() -> None:
    assert check_available_device("device", "cpu") == torch.device("cpu")
    assert check_available_device("device", "cuda:3", present=False) == torch.device("cuda:3")
    with pytest.raises(TypeError, match="device must be a str or torch.device"):
        check_available_device("device", 0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            check_available_device("device", "cuda")
