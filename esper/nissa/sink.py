"""The sink protocol: anything that accepts telemetry events."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from esper.leyline import TelemetryEvent


@runtime_checkable
class TelemetrySink(Protocol):
    """Receives every event a :class:`~esper.nissa.hub.TelemetryHub` fans out."""

    def emit(self, event: TelemetryEvent) -> None:
        """Record one event."""

    def close(self) -> None:
        """Flush and release resources; further ``emit`` calls are errors."""


__all__ = ["TelemetrySink"]
