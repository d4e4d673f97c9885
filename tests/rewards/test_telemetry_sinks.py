"""Nissa sinks: hub fan-out, JSONL round trip, optional TensorBoard."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

from esper.leyline import TelemetryEvent, TelemetryEventType
from esper.nissa import JsonlSink, MemorySink, TelemetryHub, TensorBoardSink, read_events


def _events() -> list[TelemetryEvent]:
    return [
        TelemetryEvent(
            TelemetryEventType.SEED_GERMINATED,
            {"policy": "ppo", "episode": 3, "env": 1, "blueprint_id": "conv_light", "blend_tempo_epochs": 8,
             "blend_algorithm_id": "gated"},
            slot_id="r0c2",
            seed_id="seed-7",
            epoch=4,
            timestamp=1734567890.123456,
        ),
        TelemetryEvent(
            TelemetryEventType.PPO_UPDATE_COMPLETED,
            {"update": 12, "entropy_tempo": 1.0986122886681098, "approx_kl": 0.004, "skipped": False, "note": None},
            timestamp=1734567891.5,
        ),
        TelemetryEvent(TelemetryEventType.EPISODE_COMPLETED, {}, timestamp=0.0),
    ]


@pytest.mark.req("DEC.rewards_nissa.6")
def test_jsonl_round_trip_append_and_flush(tmp_path: Path) -> None:
    path = tmp_path / "run" / "telemetry.jsonl"
    first, second, third = _events()
    sink = JsonlSink(path)
    sink.emit(first)
    # flushed: readable before close, one JSON object per line equal to event.to_dict()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [first.to_dict()]
    sink.close()
    resumed = JsonlSink(path)  # append mode: a resumed run continues the file
    resumed.emit(second)
    resumed.emit(third)
    resumed.close()
    assert read_events(path) == [first, second, third]
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] == [
        e.to_dict() for e in (first, second, third)
    ]
    truncating = JsonlSink(path, append=False)
    truncating.emit(third)
    truncating.close()
    assert read_events(path) == [third]
    with pytest.raises(RuntimeError, match="closed"):
        truncating.emit(first)


@pytest.mark.req("DEC.rewards_nissa.6")
def test_jsonl_is_strict_json(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    with_nan = TelemetryEvent(
        TelemetryEventType.EPOCH_COMPLETED, {"val_loss": math.nan, "train_loss": math.inf}, timestamp=2.0
    )
    sink = JsonlSink(path)
    sink.emit(with_nan)
    sink.close()
    line = path.read_text(encoding="utf-8").strip()
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line)["data"] == {"val_loss": None, "train_loss": None}
    path.write_text(line + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"t.jsonl:2: bad telemetry record"):
        read_events(path)
    path.write_text('{"event_type": "seed_exploded", "data": {}, "timestamp": 1.0}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"t.jsonl:1: .*'seed_exploded' is unknown; valid: \['seed_germinated'"):
        read_events(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_events(tmp_path / "missing.jsonl")


@pytest.mark.req("DEC.rewards_nissa.5")
def test_hub_fans_out_to_every_sink_in_order(tmp_path: Path) -> None:
    order: list[str] = []

    class Recording(MemorySink):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def emit(self, event: TelemetryEvent) -> None:
            order.append(self.name)
            super().emit(event)

    a, b = Recording("a"), Recording("b")
    jsonl = JsonlSink(tmp_path / "t.jsonl")
    events = _events()
    with TelemetryHub([a, b, jsonl]) as hub:
        for event in events[:2]:
            hub.emit(event)
        hub(events[2])  # usable as an on_event callback
    assert a.events == b.events == events
    assert order == ["a", "b"] * 3
    assert a.closed and b.closed and jsonl.closed
    assert read_events(tmp_path / "t.jsonl") == events
    assert a.of_type("ppo_update_completed") == [events[1]]
    with pytest.raises(RuntimeError, match="closed"):
        hub.emit(events[0])
    hub.close()  # idempotent
    with pytest.raises(TypeError, match="sink must provide emit"):
        TelemetryHub([object()])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="event must be a TelemetryEvent"):
        TelemetryHub([MemorySink()]).emit({"event_type": "x"})  # type: ignore[arg-type]


@pytest.mark.req("DEC.rewards_nissa.5")
def test_hub_propagates_sink_errors() -> None:
    class Broken(MemorySink):
        def emit(self, event: TelemetryEvent) -> None:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        TelemetryHub([Broken()]).emit(_events()[0])


@pytest.mark.req("DEC.rewards_nissa.7")
def test_tensorboard_missing_names_the_extra(tmp_path: Path) -> None:
    if importlib.util.find_spec("tensorboard") is not None:
        pytest.skip("tensorboard is installed; the missing-dependency path cannot be exercised")
    with pytest.raises(ImportError, match=r"esper\[tensorboard\]"):
        TensorBoardSink(tmp_path / "tb")


class _FakeWriter:
    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self.scalars: list[tuple[str, float, int]] = []
        self.closed = False

    def add_scalar(self, tag: str, scalar_value: float, global_step: int) -> None:
        self.scalars.append((tag, scalar_value, global_step))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.mark.req("DEC.rewards_nissa.7")
def test_tensorboard_sink_writes_ppo_and_episode_scalars(tmp_path: Path) -> None:
    writers: list[_FakeWriter] = []

    def factory(log_dir: str) -> _FakeWriter:
        writers.append(_FakeWriter(log_dir))
        return writers[-1]

    sink = TensorBoardSink(tmp_path / "tb", writer_factory=factory)
    sink.emit(TelemetryEvent(TelemetryEventType.PPO_UPDATE_COMPLETED, {"update": 7, "entropy_tempo": 1.0, "note": "x"}))
    for acc in (80.0, 82.5):
        sink.emit(
            TelemetryEvent(
                TelemetryEventType.EPISODE_COMPLETED,
                {"policy": "ppo", "episode": 0, "env": 1, "final_val_accuracy": acc, "seeds_fossilized": 2},
            )
        )
    sink.emit(TelemetryEvent(TelemetryEventType.SEED_CULLED, {"blueprint_id": "norm", "blend_tempo_epochs": 5}))
    sink.close()
    (writer,) = writers
    assert writer.log_dir == str(tmp_path / "tb") and writer.closed
    assert writer.scalars == [
        ("ppo/entropy_tempo", 1.0, 7),
        ("episode/ppo/final_val_accuracy", 80.0, 0),
        ("episode/ppo/seeds_fossilized", 2.0, 0),
        ("episode/ppo/final_val_accuracy", 82.5, 1),
        ("episode/ppo/seeds_fossilized", 2.0, 1),
    ]
