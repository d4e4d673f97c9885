"""Unit tests: event decoding, run discovery, policy attribution and the report's checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esper.leyline import TelemetryEvent, TelemetryEventType
from esper.nissa import JsonlSink, MemorySink, event_from_dict, parse_event_type
from esper.nissa.records import EpisodeRecord, PolicyData, collect_policies
from esper.nissa.runs import load_runs
from esper.nissa.summary import summarize, summarize_policy, tempo_counts, tempo_label


def _episode(final: float, policy: str | None = None) -> TelemetryEvent:
    data: dict[str, float | int | str | bool | None] = {
        "final_val_accuracy": final,
        "best_val_accuracy": final,
        "seeds_germinated": 0,
        "seeds_fossilized": 0,
        "seeds_culled": 0,
        "params_added": 0,
    }
    if policy is not None:
        data["policy"] = policy
    return TelemetryEvent(TelemetryEventType.EPISODE_COMPLETED, data, timestamp=1.0)


def _run(folder: Path, events: list[TelemetryEvent], config: dict[str, object] | None = None) -> Path:
    folder.mkdir(parents=True)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    sink = JsonlSink(folder / "telemetry.jsonl")
    for event in events:
        sink.emit(event)
    sink.close()
    return folder


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ([], "must be a JSON object"),
        ({"data": {}, "timestamp": 1.0}, "'<missing>' is unknown"),
        ({"event_type": "seed_culled", "data": [], "timestamp": 1.0}, "'data' must be an object"),
        ({"event_type": "seed_culled", "data": {"a": [1]}, "timestamp": 1.0}, r"data\['a'\] must be a number"),
        ({"event_type": "seed_culled", "data": {}, "timestamp": "now"}, "'timestamp' must be a number"),
        ({"event_type": "seed_culled", "slot_id": 3, "timestamp": 1.0}, "'slot_id' must be str or null"),
        ({"event_type": "seed_culled", "epoch": 1.5, "timestamp": 1.0}, "'epoch' must be int or null"),
    ],
)
def test_event_from_dict_rejects_malformed_records(record: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        event_from_dict(record)


def test_event_type_parsing_and_memory_filter() -> None:
    assert parse_event_type("seed_culled") is TelemetryEventType.SEED_CULLED
    sink = MemorySink()
    sink.emit(_episode(50.0))
    assert sink.of_type(TelemetryEventType.EPISODE_COMPLETED) == sink.events
    with pytest.raises(ValueError, match=r"'nope' is unknown; valid: \["):
        sink.of_type("nope")


def test_jsonl_sink_rejects_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be a file"):
        JsonlSink(tmp_path)


def test_policy_attribution_and_labels(tmp_path: Path) -> None:
    _run(tmp_path / "run_a", [_episode(60.0)], {"policy": "ppo"})
    _run(tmp_path / "run_b", [_episode(70.0)], {"policy": "ppo"})
    _run(tmp_path / "tagged", [_episode(80.0, "heuristic")])  # no config.json: the episodes' tag
    _run(tmp_path / "plain", [_episode(90.0)])  # no config, no tag: the folder name
    (tmp_path / "notes").mkdir()  # a subfolder without telemetry is not a run
    policies = collect_policies(load_runs(tmp_path))
    assert [p.label for p in policies] == ["ppo (run_a)", "ppo (run_b)", "heuristic", "plain"]
    assert [p.episodes[0].final_val_accuracy for p in policies] == [60.0, 70.0, 80.0, 90.0]


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    run = _run(tmp_path / "r", [_episode(60.0)])
    (run / "config.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match=r"config.json: invalid JSON"):
        summarize(run)
    (run / "config.json").write_text('{"policy": 3}', encoding="utf-8")
    with pytest.raises(ValueError, match="'policy' must be a non-empty string"):
        summarize(run)
    (run / "config.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a JSON object"):
        summarize(run)


def test_summary_window_and_tempo_helpers(tmp_path: Path) -> None:
    data = PolicyData(label="x", policy="x", folder=tmp_path)
    data.episodes = [EpisodeRecord(float(a), float(a), None, 0, 0, 0, 0.0) for a in (10, 20, 30)]
    one = summarize_policy(data, last_k=1)
    assert (one["final_accuracy_mean"], one["final_accuracy_std"], one["last_k"]) == (30.0, 0.0, 1)
    assert one["episode_return_mean"] is None
    with pytest.raises(ValueError, match="last_k must be >= 1"):
        summarize_policy(data, last_k=0)
    assert tempo_label(3) == "FAST (3)" and tempo_label(4) == "4 epochs"
    assert tempo_counts([]) == {3: 0, 5: 0, 8: 0}
