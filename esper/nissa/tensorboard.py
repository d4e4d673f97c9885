"""Optional TensorBoard sink (needs the ``esper[tensorboard]`` extra)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from esper.leyline import TelemetryEvent, TelemetryEventType

INSTALL_HINT = "pip install 'esper[tensorboard]'"


class ScalarWriter(Protocol):
    """The part of ``torch.utils.tensorboard.SummaryWriter`` the sink uses."""

    def add_scalar(self, tag: str, scalar_value: float, global_step: int) -> object: ...

    def flush(self) -> object: ...

    def close(self) -> object: ...


def summary_writer_factory() -> Callable[[str], ScalarWriter]:
    """``SummaryWriter`` from ``torch.utils.tensorboard``, imported on first use.

    Raises ``ImportError`` naming the optional extra when tensorboard is not installed.
    """
    try:
        module = importlib.import_module("torch.utils.tensorboard")
    except ImportError as exc:
        raise ImportError(
            f"TensorBoardSink needs the optional dependency 'tensorboard' ({exc}); install it with {INSTALL_HINT}"
        ) from exc
    writer_cls: Callable[[str], ScalarWriter] = module.SummaryWriter
    return writer_cls


class TensorBoardSink:
    """Writes the numeric data of PPO_UPDATE_COMPLETED (step: ``update``) and EPISODE_COMPLETED events.

    Tags: ``ppo/<key>`` and ``episode/<policy>/<key>``; episodes are numbered by arrival (one point per
    completed env episode). ``writer_factory`` replaces ``SummaryWriter`` (tests).
    """

    def __init__(self, log_dir: str | Path, *, writer_factory: Callable[[str], ScalarWriter] | None = None) -> None:
        factory = summary_writer_factory() if writer_factory is None else writer_factory
        self.log_dir = Path(log_dir)
        self._writer = factory(str(self.log_dir))
        self._episodes = 0
        self._updates = 0
        self._closed = False

    def emit(self, event: TelemetryEvent) -> None:
        if self._closed:
            raise RuntimeError(f"TensorBoardSink for {self.log_dir} is closed")
        if event.event_type == TelemetryEventType.PPO_UPDATE_COMPLETED:
            update = event.data.get("update")
            step = update if isinstance(update, int) and not isinstance(update, bool) else self._updates
            self._updates += 1
            self._write("ppo", event, step, skip=("update",))
        elif event.event_type == TelemetryEventType.EPISODE_COMPLETED:
            policy = event.data.get("policy")
            prefix = f"episode/{policy}" if isinstance(policy, str) and policy else "episode"
            self._write(prefix, event, self._episodes, skip=("episode", "env"))
            self._episodes += 1

    def _write(self, prefix: str, event: TelemetryEvent, step: int, skip: tuple[str, ...]) -> None:
        for key, value in event.data.items():
            if key in skip or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            self._writer.add_scalar(f"{prefix}/{key}", float(value), step)
        self._writer.flush()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()


__all__ = ["INSTALL_HINT", "ScalarWriter", "TensorBoardSink", "summary_writer_factory"]
