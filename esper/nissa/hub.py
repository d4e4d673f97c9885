"""Fan-out of telemetry events to sinks."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from types import TracebackType

from esper.leyline import TelemetryEvent
from esper.nissa.sink import TelemetrySink


class TelemetryHub:
    """Sends every event to every sink, in the order the sinks were added.

    A hub is callable, so it can be passed wherever an ``on_event`` callback is expected. A failing sink
    raises (telemetry problems are not swallowed).

    Nothing emitted before a sink is attached is lost (issue 13, ``DEC.reliability.3``): while the hub has no
    sink it holds the events, and every sink added before the next delivery receives them first, in order.
    Closing a hub that never got a sink while holding events warns (``RuntimeWarning``) that they are dropped.
    """

    def __init__(self, sinks: Iterable[TelemetrySink] = ()) -> None:
        self._sinks: list[TelemetrySink] = []
        self._pending: list[TelemetryEvent] = []
        self._closed = False
        for sink in sinks:
            self.add_sink(sink)

    @property
    def sinks(self) -> tuple[TelemetrySink, ...]:
        return tuple(self._sinks)

    @property
    def pending(self) -> tuple[TelemetryEvent, ...]:
        """Events emitted before any sink was attached and not yet delivered past the first sinks."""
        return tuple(self._pending)

    def add_sink(self, sink: TelemetrySink) -> None:
        """Attach ``sink`` (must have ``emit(event)`` and ``close()``)."""
        if not isinstance(sink, TelemetrySink):
            raise TypeError(f"sink must provide emit(event) and close(), got {type(sink).__name__}")
        if self._closed:
            raise RuntimeError("TelemetryHub is closed; create a new hub to add sinks")
        for event in self._pending:
            sink.emit(event)
        self._sinks.append(sink)

    def emit(self, event: TelemetryEvent) -> None:
        """Send ``event`` to every sink."""
        if self._closed:
            raise RuntimeError("TelemetryHub is closed; create a new hub to emit more events")
        if not isinstance(event, TelemetryEvent):
            raise TypeError(f"event must be a TelemetryEvent, got {type(event).__name__}")
        if not self._sinks:
            self._pending.append(event)
            return
        self._pending.clear()
        for sink in self._sinks:
            sink.emit(event)

    __call__ = emit

    def close(self) -> None:
        """Close every sink (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for sink in self._sinks:
            sink.close()
        if self._pending and not self._sinks:
            lost, self._pending = len(self._pending), []
            warnings.warn(f"TelemetryHub closed with {lost} event(s) that never reached a sink", RuntimeWarning, stacklevel=2)

    def __enter__(self) -> TelemetryHub:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["TelemetryHub"]
