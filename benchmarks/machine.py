"""The machine class that keys the committed benchmark baselines (``benchmarks/baselines/<class>/``).

A class is ``<os>-<arch>-<cpu model>-<n>cpu-<device>``, e.g. ``linux-x86-64-amd-epyc-2cpu-cpu``:
timings are only compared with a baseline saved on the same kind of machine. The device part follows
``ESPER_BENCH_DEVICE`` (``cuda-<gpu name>`` on a GPU). ``python -m benchmarks.machine`` prints the class.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``), or ``unknown-cpu``."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown-cpu"


def _slug(text: str) -> str:
    text = re.sub(r"\((r|tm)\)|\bcpu\b|@.*$|\bprocessor\b|\bwith\b.*$", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "unknown"


def device_class() -> str:
    device = os.environ.get("ESPER_BENCH_DEVICE", "cpu")
    if device.startswith("cuda"):
        import torch

        name = torch.cuda.get_device_name(torch.device(device)) if torch.cuda.is_available() else "unavailable"
        return "cuda-" + _slug(name)
    return re.sub(r"[^a-z0-9]+", "-", device.lower())


def machine_class() -> str:
    """``<os>-<arch>-<cpu model>-<n>cpu-<device>`` (lower case, ``[a-z0-9-]``)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    parts = [platform.system(), platform.machine(), cpu_model()]
    return "-".join(_slug(p) for p in parts) + f"-{cpus}cpu-{device_class()}"


if __name__ == "__main__":
    print(machine_class())
