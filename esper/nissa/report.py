"""``write_report``: Markdown + PNG report of one or several runs (PPO vs heuristic vs no-growth baseline)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from esper.nissa.plots import MAX_TEMPO_ENTROPY, write_plots
from esper.nissa.records import PolicyData, SeedRecord, collect_policies
from esper.nissa.runs import load_runs
from esper.nissa.summary import (
    DEFAULT_LAST_K,
    TEMPO_NAMES,
    SummaryValue,
    summarize,
    summarize_policies,
    tempo_counts,
    tempo_label,
)

REPORT_FILE = "report.md"
BASELINE_POLICY = "baseline"
_PLOT_TITLES: dict[str, str] = {
    "final_accuracy": "Final validation accuracy per episode",
    "tempo_entropy": "Tempo entropy over PPO updates (dashed: ln 3)",
    "head_entropies": "Entropy of every action head",
    "tempo_usage": "Tempo usage (germinations)",
    "seed_outcomes": "Seeds germinated / fossilized / culled",
    "params_added": "Seed parameters added per episode",
}


def _fmt(value: SummaryValue, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _headline(summary: dict[str, dict[str, SummaryValue]], last_k: int) -> list[str]:
    header = [
        "policy",
        "episodes",
        f"final acc. (last {last_k}) mean ± std",
        "best final acc.",
        "best val acc.",
        "germinated",
        "fossilized",
        "culled",
        f"params added (mean, last {last_k})",
        f"return (mean, last {last_k})",
    ]
    rows = [
        [
            label,
            _fmt(s["episodes"]),
            f"{_fmt(s['final_accuracy_mean'])} ± {_fmt(s['final_accuracy_std'])}",
            _fmt(s["final_accuracy_best"]),
            _fmt(s["best_val_accuracy"]),
            _fmt(s["seeds_germinated"]),
            _fmt(s["seeds_fossilized"]),
            _fmt(s["seeds_culled"]),
            _fmt(s["params_added_mean"], 0),
            _fmt(s["episode_return_mean"], 3),
        ]
        for label, s in summary.items()
    ]
    return _table(header, rows)


ENTROPY_FALL_MIN = 0.01
"""A change of tempo entropy smaller than this (nats) is reported as flat, not as a fall."""


def _entropy_check(policies: Sequence[PolicyData], summary: dict[str, dict[str, SummaryValue]]) -> list[str]:
    lines: list[str] = []
    for data in policies:
        first, last = summary[data.label]["tempo_entropy_first"], summary[data.label]["tempo_entropy_last"]
        if first is None or last is None:
            continue
        if last < first - ENTROPY_FALL_MIN:
            verdict = "falls"
        elif last > first + ENTROPY_FALL_MIN:
            verdict = "rises"
        else:
            verdict = f"flat (change under {ENTROPY_FALL_MIN} nats: too few updates to tell)"
        lines.append(
            f"   - {data.label}: {_fmt(first, 4)} → {_fmt(last, 4)} over {len(data.updates)} updates "
            f"(ln 3 = {MAX_TEMPO_ENTROPY:.4f}): **{verdict}**"
        )
    return lines or ["   - no PPO updates in the telemetry"]


def _tempo_check(policies: Sequence[PolicyData]) -> list[str]:
    lines: list[str] = []
    for data in policies:
        counts = tempo_counts(data.germinations)
        total = sum(counts.values())
        if total == 0:
            lines.append(f"   - {data.label}: no germinations")
            continue
        shares = ", ".join(f"{tempo_label(t)} {n} ({100 * n / total:.0f}%)" for t, n in counts.items())
        unused = [TEMPO_NAMES[t] for t, n in counts.items() if n == 0 and t in TEMPO_NAMES]
        verdict = "all tempos used" if not unused else f"unused: {', '.join(unused)}"
        lines.append(f"   - {data.label}: {shares}: **{verdict}**")
    return lines


def _baseline_check(summary: dict[str, dict[str, SummaryValue]], policies: Sequence[PolicyData]) -> list[str]:
    baseline = next((d for d in policies if d.policy == BASELINE_POLICY), None)
    if baseline is None:
        return [f"   - no `{BASELINE_POLICY}` run in this report"]
    b = summary[baseline.label]
    lines: list[str] = []
    for data in policies:
        if data is baseline:
            continue
        s = summary[data.label]
        mean, base = s["final_accuracy_mean"], b["final_accuracy_mean"]
        std, base_std, n, base_n = s["final_accuracy_std"], b["final_accuracy_std"], s["last_k"], b["last_k"]
        if mean is None or base is None or std is None or base_std is None or not n or not base_n:
            continue
        diff = mean - base
        se = math.sqrt(std**2 / n + base_std**2 / base_n)
        verdict = "no regression" if diff >= -2 * se else "REGRESSION"
        lines.append(
            f"   - {data.label} vs {baseline.label}: {diff:+.2f} points (± {se:.2f} s.e.) on the mean final "
            f"accuracy of the last episodes: **{verdict}**"
        )
    return lines or ["   - only the baseline is present"]


def _blueprint_tempo_table(seeds: Sequence[SeedRecord]) -> list[str]:
    tempos = list(tempo_counts(seeds))
    blueprints = sorted({s.blueprint_id for s in seeds})
    if not blueprints:
        return ["_none_"]
    rows: list[list[str]] = []
    for blueprint in blueprints:
        counts = tempo_counts([s for s in seeds if s.blueprint_id == blueprint])
        top = max(counts.values())
        most = ", ".join(TEMPO_NAMES.get(t, str(t)) for t, n in counts.items() if n == top)
        rows.append([f"`{blueprint}`", *(str(counts[t]) for t in tempos), str(sum(counts.values())), most])
    totals = tempo_counts(seeds)
    rows.append(["**total**", *(f"**{totals[t]}**" for t in tempos), f"**{len(seeds)}**", ""])
    return _table(["blueprint", *(tempo_label(t) for t in tempos), "total", "most used"], rows)


def render_report(
    policies: Sequence[PolicyData], source: Path, plots: dict[str, Path], last_k: int = DEFAULT_LAST_K
) -> str:
    """The Markdown text of a report (plots referenced by file name, next to ``report.md``)."""
    summary = summarize_policies(policies, last_k)
    runs = ", ".join(f"{d.label} (`{d.folder.name}/`)" for d in policies)
    lines = [
        "# Esper run report",
        "",
        f"Source: `{source}`; policies: {runs}.",
        f"Means and std are over each policy's last {last_k} episodes (completion order); std is the sample std.",
        "",
        "## Headline",
        "",
        *_headline(summary, last_k),
        "",
        "## Monitoring (plan: blend tempo lever)",
        "",
        "1. Tempo entropy should fall from ln 3 ≈ 1.0986 (mean of the first vs the last updates):",
        *_entropy_check(policies, summary),
        "2. All tempos should be used (germinations per tempo):",
        *_tempo_check(policies),
        "3. No accuracy regression against the no-growth baseline (regression: below by more than 2 s.e.):",
        *_baseline_check(summary, policies),
        "4. Blueprint–tempo correlations: see the tables below.",
        "",
        "## Plots",
        "",
    ]
    for name, path in plots.items():
        lines += [f"### {_PLOT_TITLES[name]}", "", f"![{_PLOT_TITLES[name]}]({path.name})", ""]
    lines += ["## Blueprint × tempo", ""]
    for data in policies:
        lines += [f"### {data.label}: germinations", "", *_blueprint_tempo_table(data.germinations), ""]
        lines += [f"### {data.label}: fossilized seeds", "", *_blueprint_tempo_table(data.fossilized), ""]
    return "\n".join(lines)


def write_report(run_dir: str | Path, out_dir: str | Path | None = None, *, last_k: int = DEFAULT_LAST_K) -> Path:
    """Write ``report.md`` and its PNG plots for the runs under ``run_dir`` (into ``out_dir``, default ``run_dir``).

    ``run_dir`` is a run folder (``telemetry.jsonl`` + ``config.json``) or a folder of run folders. Missing or
    empty telemetry raises ``FileNotFoundError``/``ValueError`` naming the file. Returns the path of ``report.md``.
    """
    if last_k < 1:
        raise ValueError(f"last_k must be >= 1, got {last_k}")
    source = Path(run_dir)
    policies = collect_policies(load_runs(source))
    target = source if out_dir is None else Path(out_dir)
    plots = write_plots(policies, target)
    report = target / REPORT_FILE
    report.write_text(render_report(policies, source, plots, last_k) + "\n", encoding="utf-8")
    return report


__all__ = ["BASELINE_POLICY", "REPORT_FILE", "render_report", "summarize", "write_report"]
