"""In-memory sink (tests, notebooks)."""

from __future__ import annotations

from esper.leyline import TelemetryEvent, TelemetryEventType
from esper.nissa.events import parse_event_type


class MemorySink:
    """Keeps every event in :attr:`events`."""

    def __init__(self) -> None:
        self.events: list[TelemetryEvent] = []
        self.closed = False

    def emit(self, event: TelemetryEvent) -> None:
        if self.closed:
            raise RuntimeError("MemorySink is closed")
        self.events.append(event)

    def close(self) -> None:
        self.closed = True

    def of_type(self, event_type: TelemetryEventType | str) -> list[TelemetryEvent]:
        """Events of one type (enum or its string value)."""
        wanted = parse_event_type(event_type)
        return [e for e in self.events if e.event_type == wanted]


__all__ = ["MemorySink"]
