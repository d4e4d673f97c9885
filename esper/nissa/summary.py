"""Headline numbers per policy (``summarize``) and the tempo helpers shared by tables and plots."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from esper.leyline import TEMPO_TO_EPOCHS
from esper.nissa.records import PolicyData, SeedRecord, collect_policies
from esper.nissa.runs import load_runs

#: Default window: headline accuracy, return and params are averaged over each policy's last K episodes.
DEFAULT_LAST_K = 20
#: Updates averaged at each end of the tempo-entropy curve (fewer when a run has fewer updates).
ENTROPY_WINDOW = 5
#: Tempo epochs -> name, e.g. ``{3: "FAST", 5: "STANDARD", 8: "SLOW"}``.
TEMPO_NAMES: dict[int, str] = {epochs: tempo.name for tempo, epochs in TEMPO_TO_EPOCHS.items()}

SummaryValue = int | float | None


def tempo_label(epochs: int) -> str:
    """``"FAST (3)"``; unknown tempos keep their epoch count."""
    name = TEMPO_NAMES.get(epochs)
    return f"{name} ({epochs})" if name else f"{epochs} epochs"


def tempo_counts(seeds: Sequence[SeedRecord]) -> dict[int, int]:
    """Seeds per tempo (epochs): every known tempo present (possibly 0), unknown tempos appended."""
    counts = {epochs: 0 for epochs in sorted(TEMPO_NAMES)}
    for seed in seeds:
        counts[seed.tempo_epochs] = counts.get(seed.tempo_epochs, 0) + 1
    return counts


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _std(values: Sequence[float]) -> float | None:
    """Sample standard deviation (n - 1); 0.0 for a single value."""
    if not values:
        return None
    return statistics.stdev(values) if len(values) > 1 else 0.0


def entropy_ends(data: PolicyData, key: str = "entropy_tempo") -> tuple[float | None, float | None]:
    """Mean of ``key`` over the first and the last ``ENTROPY_WINDOW`` updates (``None`` without updates)."""
    _, values = data.series(key)
    if not values:
        return None, None
    window = min(ENTROPY_WINDOW, max(1, len(values) // 2))
    return statistics.fmean(values[:window]), statistics.fmean(values[-window:])


def summarize_policy(data: PolicyData, last_k: int = DEFAULT_LAST_K) -> dict[str, SummaryValue]:
    """Headline numbers of one policy; see :func:`summarize`."""
    if last_k < 1:
        raise ValueError(f"last_k must be >= 1, got {last_k}")
    episodes = data.episodes
    window = episodes[-last_k:]
    final = [e.final_val_accuracy for e in window]
    returns = [e.episode_return for e in window if e.episode_return is not None]
    tempo_first, tempo_last = entropy_ends(data)
    out: dict[str, SummaryValue] = {
        "episodes": len(episodes),
        "last_k": len(window),
        "final_accuracy_mean": _mean(final),
        "final_accuracy_std": _std(final),
        "final_accuracy_best": max(e.final_val_accuracy for e in episodes),
        "best_val_accuracy": max(e.best_val_accuracy for e in episodes),
        "episode_return_mean": _mean(returns),
        "params_added_mean": _mean([e.params_added for e in window]),
        "seeds_germinated": sum(e.seeds_germinated for e in episodes),
        "seeds_fossilized": sum(e.seeds_fossilized for e in episodes),
        "seeds_culled": sum(e.seeds_culled for e in episodes),
        "ppo_updates": len(data.updates),
        "tempo_entropy_first": tempo_first,
        "tempo_entropy_last": tempo_last,
    }
    for epochs, count in tempo_counts(data.germinations).items():
        name = TEMPO_NAMES.get(epochs, f"{epochs}_epochs").lower()
        out[f"tempo_{name}"] = count
    return out


def summarize_policies(
    policies: Sequence[PolicyData], last_k: int = DEFAULT_LAST_K
) -> dict[str, dict[str, SummaryValue]]:
    """:func:`summarize_policy` for each policy, keyed by label (report order)."""
    return {data.label: summarize_policy(data, last_k) for data in policies}


def summarize(run_dir: str | Path, last_k: int = DEFAULT_LAST_K) -> dict[str, dict[str, SummaryValue]]:
    """Headline numbers per policy label, read from the telemetry under ``run_dir``.

    Per policy: ``episodes``; over the last ``last_k`` episodes (file order): ``final_accuracy_mean``/``_std``
    (sample std), ``episode_return_mean``, ``params_added_mean`` (``last_k`` holds the window actually used);
    over all episodes: ``final_accuracy_best``, ``best_val_accuracy``, ``seeds_germinated``/``_fossilized``/
    ``_culled`` (sums of the episode counts); ``ppo_updates``; ``tempo_entropy_first``/``_last`` (mean over the
    first/last updates); germinations per tempo ``tempo_fast``/``tempo_standard``/``tempo_slow``.
    """
    return summarize_policies(collect_policies(load_runs(run_dir)), last_k)


__all__ = [
    "DEFAULT_LAST_K",
    "ENTROPY_WINDOW",
    "TEMPO_NAMES",
    "SummaryValue",
    "entropy_ends",
    "summarize",
    "summarize_policies",
    "summarize_policy",
    "tempo_counts",
    "tempo_label",
]
