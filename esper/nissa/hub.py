"""Fan-out of telemetry events to sinks."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType

from esper.leyline import TelemetryEvent
from esper.nissa.sink import TelemetrySink


class TelemetryHub:
    """Sends every event to every sink, in the order the sinks were added.

    A hub is callable, so it can be passed wherever an ``on_event`` callback is expected. A failing sink
    raises (telemetry problems are not swallowed).
    """

    def __init__(self, sinks: Iterable[TelemetrySink] = ()) -> None:
        self._sinks: list[TelemetrySink] = []
        self._closed = False
        for sink in sinks:
            self.add_sink(sink)

    @property
    def sinks(self) -> tuple[TelemetrySink, ...]:
        return tuple(self._sinks)

    def add_sink(self, sink: TelemetrySink) -> None:
        """Attach ``sink`` (must have ``emit(event)`` and ``close()``)."""
        if not isinstance(sink, TelemetrySink):
            raise TypeError(f"sink must provide emit(event) and close(), got {type(sink).__name__}")
        self._sinks.append(sink)

    def emit(self, event: TelemetryEvent) -> None:
        """Send ``event`` to every sink."""
        if self._closed:
            raise RuntimeError("TelemetryHub is closed; create a new hub to emit more events")
        if not isinstance(event, TelemetryEvent):
            raise TypeError(f"event must be a TelemetryEvent, got {type(event).__name__}")
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

    def __enter__(self) -> TelemetryHub:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["TelemetryHub"]
