"""PNG plots of a report (matplotlib's Agg canvas; no pyplot, no global backend change)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from esper.leyline import HEAD_NAMES, NUM_TEMPO
from esper.nissa.records import PolicyData
from esper.nissa.summary import tempo_counts, tempo_label

#: Reference line of the tempo-entropy plot: the entropy of a uniform choice over the tempos (ln 3).
MAX_TEMPO_ENTROPY = math.log(NUM_TEMPO)
ROLLING_WINDOW = 10

#: Plot file names, in report order.
PLOT_FILES: dict[str, str] = {
    "final_accuracy": "final_accuracy.png",
    "tempo_entropy": "tempo_entropy.png",
    "head_entropies": "head_entropies.png",
    "tempo_usage": "tempo_usage.png",
    "seed_outcomes": "seed_outcomes.png",
    "params_added": "params_added.png",
}


def _rolling_mean(values: Sequence[float], window: int) -> list[float]:
    out: list[float] = []
    total = 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _no_data(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in telemetry", ha="center", va="center", transform=ax.transAxes)


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    return path


def _line_plot(
    policies: Sequence[PolicyData], path: Path, title: str, ylabel: str, value: Callable[[PolicyData], list[float]]
) -> Path:
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    drawn = False
    for data in policies:
        values = value(data)
        if not values:
            continue
        drawn = True
        x = list(range(1, len(values) + 1))
        (line,) = ax.plot(x, values, alpha=0.35, linewidth=1)
        ax.plot(x, _rolling_mean(values, ROLLING_WINDOW), color=line.get_color(), linewidth=2, label=data.label)
    if drawn:
        ax.legend(title=f"rolling mean ({ROLLING_WINDOW})")
    else:
        _no_data(ax, "episodes")
    ax.set(title=title, xlabel="episode (completion order)", ylabel=ylabel)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_final_accuracy(policies: Sequence[PolicyData], path: Path) -> Path:
    return _line_plot(
        policies,
        path,
        "Final validation accuracy per episode",
        "accuracy (%)",
        lambda d: [e.final_val_accuracy for e in d.episodes],
    )


def plot_params_added(policies: Sequence[PolicyData], path: Path) -> Path:
    return _line_plot(
        policies,
        path,
        "Seed parameters added per episode",
        "parameters",
        lambda d: [e.params_added for e in d.episodes],
    )


def plot_tempo_entropy(policies: Sequence[PolicyData], path: Path) -> Path:
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    drawn = False
    for data in policies:
        x, y = data.series("entropy_tempo")
        if y:
            drawn = True
            ax.plot(x, y, marker="." if len(y) < 50 else None, label=data.label)
    ax.axhline(MAX_TEMPO_ENTROPY, color="grey", linestyle="--", label=f"ln {NUM_TEMPO} = {MAX_TEMPO_ENTROPY:.4f}")
    if not drawn:
        _no_data(ax, "PPO updates")
    ax.legend()
    ax.set(title="Tempo head entropy", xlabel="PPO update", ylabel="entropy (nats)")
    ax.set_ylim(bottom=0.0, top=MAX_TEMPO_ENTROPY * 1.1)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_head_entropies(policies: Sequence[PolicyData], path: Path) -> Path:
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    trained = [d for d in policies if d.updates]
    for data in trained:
        for head in HEAD_NAMES:
            x, y = data.series(f"entropy_{head}")
            if y:
                ax.plot(x, y, label=head if len(trained) == 1 else f"{data.label}: {head}")
    if trained:
        ax.legend(loc="best", fontsize=8)
    else:
        _no_data(ax, "PPO updates")
    ax.set(title="Entropy of every action head", xlabel="PPO update", ylabel="entropy (nats)")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _grouped_bars(
    policies: Sequence[PolicyData], path: Path, title: str, categories: list[str], counts: list[list[float]]
) -> Path:
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(policies))
    for p, (data, row) in enumerate(zip(policies, counts, strict=True)):
        x = [i + (p - (len(policies) - 1) / 2) * width for i in range(len(categories))]
        bars = ax.bar(x, row, width=width, label=data.label)
        ax.bar_label(bars, fmt="%g", fontsize=8)
    ax.set_xticks(range(len(categories)), categories)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(title=title, ylabel="count")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


def plot_tempo_usage(policies: Sequence[PolicyData], path: Path) -> Path:
    per_policy = [tempo_counts(d.germinations) for d in policies]
    tempos = sorted({epochs for counts in per_policy for epochs in counts})
    rows: list[list[float]] = [[float(counts.get(t, 0)) for t in tempos] for counts in per_policy]
    return _grouped_bars(policies, path, "Germinations per blend tempo", [tempo_label(t) for t in tempos], rows)


def plot_seed_outcomes(policies: Sequence[PolicyData], path: Path) -> Path:
    rows: list[list[float]] = [
        [
            float(sum(e.seeds_germinated for e in d.episodes)),
            float(sum(e.seeds_fossilized for e in d.episodes)),
            float(sum(e.seeds_culled for e in d.episodes)),
        ]
        for d in policies
    ]
    categories = ["germinated", "fossilized", "culled"]
    return _grouped_bars(policies, path, "Seeds per policy (all episodes)", categories, rows)


_PLOTTERS: dict[str, Callable[[Sequence[PolicyData], Path], Path]] = {
    "final_accuracy": plot_final_accuracy,
    "tempo_entropy": plot_tempo_entropy,
    "head_entropies": plot_head_entropies,
    "tempo_usage": plot_tempo_usage,
    "seed_outcomes": plot_seed_outcomes,
    "params_added": plot_params_added,
}


def write_plots(policies: Sequence[PolicyData], out_dir: Path) -> dict[str, Path]:
    """Every plot of :data:`PLOT_FILES`, written into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {name: _PLOTTERS[name](policies, out_dir / filename) for name, filename in PLOT_FILES.items()}


__all__ = [
    "MAX_TEMPO_ENTROPY",
    "PLOT_FILES",
    "plot_final_accuracy",
    "plot_head_entropies",
    "plot_params_added",
    "plot_seed_outcomes",
    "plot_tempo_entropy",
    "plot_tempo_usage",
    "write_plots",
]
