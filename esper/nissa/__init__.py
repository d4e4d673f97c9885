"""Nissa: telemetry sinks (hub, JSONL, memory, optional TensorBoard) and the run report.

``esper.nissa.report`` (matplotlib) is imported lazily: ``from esper.nissa.report import write_report``.
"""

from __future__ import annotations

from esper.nissa.events import event_from_dict, event_to_json, parse_event_type
from esper.nissa.hub import TelemetryHub
from esper.nissa.jsonl import JsonlSink, read_events
from esper.nissa.memory import MemorySink
from esper.nissa.sink import TelemetrySink
from esper.nissa.tensorboard import TensorBoardSink

__all__ = [
    "JsonlSink",
    "MemorySink",
    "TelemetryHub",
    "TelemetrySink",
    "TensorBoardSink",
    "event_from_dict",
    "event_to_json",
    "parse_event_type",
    "read_events",
]
