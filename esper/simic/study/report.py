"""``study.json`` and ``study.md`` from a study folder (see :mod:`esper.simic.study.runner` for the layout)."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from pathlib import Path

from esper.data import load_task
from esper.nissa.records import EpisodeRecord, PolicyData, collect_policies
from esper.nissa.runs import load_run
from esper.nissa.summary import TEMPO_NAMES, tempo_counts, tempo_label
from esper.simic.study.config import StudyConfig
from esper.simic.study.stats import MeanCI, mean_ci

COLLAPSE_CHANCE_FACTOR = 1.5
"""An episode collapsed when its final accuracy is at most this multiple of chance (100 / classes) ..."""
COLLAPSE_DROP = 20.0
"""... or ends more than this many points below its own best validation accuracy (DEC.reward.6)."""
TEMPO_ENTROPY_TARGET = 1.0
"""Issue 10 target: the trained policy's tempo entropy falls below 1.0 nats."""

Json = dict[str, object]


def _policy_data(folder: Path) -> PolicyData:
    (data,) = collect_policies([load_run(folder)])
    return data


def _collapsed(episode: EpisodeRecord, chance: float) -> bool:
    return (
        episode.final_val_accuracy <= COLLAPSE_CHANCE_FACTOR * chance
        or episode.final_val_accuracy < episode.best_val_accuracy - COLLAPSE_DROP
    )


def _blueprint_tempo(data: list[PolicyData]) -> dict[str, dict[str, int]]:
    counts: Counter[tuple[str, int]] = Counter((s.blueprint_id, s.tempo_epochs) for d in data for s in d.germinations)
    blueprints = sorted({b for b, _ in counts})
    return {b: {TEMPO_NAMES.get(t, str(t)): counts[(b, t)] for t in sorted(TEMPO_NAMES)} for b in blueprints}


def _policy_summary(runs: list[PolicyData], chance: float) -> Json:
    """Pooled numbers of one policy; with several runs (PPO: one per training seed) also the per-seed means and
    the 95 % CI across seeds, which is the headline interval (training seeds are the independent unit)."""
    episodes = [e for d in runs for e in d.episodes]
    finals = [e.final_val_accuracy for e in episodes]
    pooled = mean_ci(finals)
    per_run = [statistics.fmean(e.final_val_accuracy for e in d.episodes) for d in runs]
    headline = mean_ci(per_run) if len(runs) > 1 else pooled
    germ = [s for d in runs for s in d.germinations]
    return {
        "runs": len(runs),
        "episodes": len(episodes),
        "final_accuracy": headline.to_dict(),
        "final_accuracy_ci_unit": "training seed" if len(runs) > 1 else "episode",
        "final_accuracy_pooled": pooled.to_dict(),
        "final_accuracy_per_seed": per_run,
        "params_added_mean": statistics.fmean(e.params_added for e in episodes),
        "seeds_germinated_mean": statistics.fmean(e.seeds_germinated for e in episodes),
        "seeds_fossilized_mean": statistics.fmean(e.seeds_fossilized for e in episodes),
        "collapsed_episodes": sum(_collapsed(e, chance) for e in episodes),
        "tempo_usage": {TEMPO_NAMES.get(t, str(t)): n for t, n in tempo_counts(germ).items()},
        "blueprint_x_tempo": _blueprint_tempo(runs),
    }


def _training_summary(runs: list[PolicyData], chance: float) -> Json:
    curves = [d.series("entropy_tempo")[1] for d in runs]
    length = min((len(c) for c in curves), default=0)
    mean_curve = [statistics.fmean(c[i] for c in curves) for i in range(length)]
    window = min(5, max(1, length // 2)) if length else 0
    episodes = [e for d in runs for e in d.episodes]
    return {
        "updates": length,
        "episodes": len(episodes),
        "tempo_entropy_mean_curve": mean_curve,
        "tempo_entropy_first": statistics.fmean(mean_curve[:window]) if window else None,
        "tempo_entropy_last": statistics.fmean(mean_curve[-window:]) if window else None,
        "tempo_entropy_last_per_seed": [statistics.fmean(c[-window:]) if window else None for c in curves],
        "op_entropy_last": statistics.fmean(
            statistics.fmean(d.series("entropy_op")[1][-window:]) for d in runs
        ) if window else None,
        "collapsed_episodes": sum(_collapsed(e, chance) for e in episodes),
        "final_accuracy_last_batch": [
            statistics.fmean(e.final_val_accuracy for e in d.episodes[-4:]) for d in runs if d.episodes
        ],
        "tempo_usage": {TEMPO_NAMES.get(t, str(t)): n for t, n in tempo_counts([s for d in runs for s in d.germinations]).items()},
    }


def _seconds(folders: list[Path]) -> float:
    total = 0.0
    for folder in folders:
        path = folder / "study_run.json"
        if path.is_file():
            total += float(json.loads(path.read_text())["seconds"])
    return total


ELAPSED_FILE = "study_elapsed.json"
"""One entry per ``run_study`` call: ``{"jobs": processes, "seconds": wall time}``. Runs overlap with ``jobs > 1``,
so the study's elapsed time is this sum, not the sum of the runs' times."""


def _elapsed(path: Path) -> float:
    """Wall time of the study: the sum over its ``run_study`` calls (``study_elapsed.json``; 0 if absent)."""
    if not path.is_file():
        return 0.0
    return float(sum(float(entry["seconds"]) for entry in json.loads(path.read_text())))


def _targets(policies: dict[str, Json], training: Json) -> dict[str, bool | None]:
    def acc(name: str) -> MeanCI | None:
        if name not in policies:
            return None
        d = policies[name]["final_accuracy"]
        assert isinstance(d, dict)
        return MeanCI(float(d["mean"]), float(d["half_width"]), int(d["n"]))

    heur, none = acc("heuristic"), acc("no_growth")
    out: dict[str, bool | None] = {}
    if heur and none:
        # "Above" means significantly above: the 95 % intervals do not overlap.
        out["heuristic_above_no_growth"] = heur.low > none.high
    # Both evaluation modes are judged (neither is picked after the fact): sampled is the policy PPO optimises,
    # greedy its per-head argmax.
    for mode in ("ppo_greedy", "ppo_sampled"):
        ppo = acc(mode)
        if ppo and heur:
            out[f"{mode}_mean_ge_heuristic"] = ppo.mean >= heur.mean
            out[f"{mode}_ci_overlaps_or_above_heuristic"] = ppo.high >= heur.low
            p_params, h_params = policies[mode]["params_added_mean"], policies["heuristic"]["params_added_mean"]
            assert isinstance(p_params, float) and isinstance(h_params, float)
            out[f"{mode}_params_le_heuristic"] = p_params <= h_params
        if ppo and none:
            out[f"{mode}_above_no_growth"] = ppo.low > none.high
            out[f"{mode}_not_below_no_growth"] = ppo.high >= none.low
    last = training.get("tempo_entropy_last")
    out["tempo_entropy_below_1"] = None if last is None else bool(isinstance(last, float) and last < TEMPO_ENTROPY_TARGET)
    usage = policies.get("ppo_sampled", {}).get("tempo_usage")
    out["all_tempos_used"] = None if not isinstance(usage, dict) else all(v > 0 for v in usage.values())
    return out


def build_study(root: Path, config: StudyConfig, external: list[str]) -> Json:
    """The study's numbers as a JSON-able dict (see ``study.json``)."""
    task = load_task(config.task, data_dir=config.data_dir)
    chance = 100.0 / task.spec.num_classes
    train_folders = [root / "train" / f"seed{s}" for s in range(config.train_seeds)]
    groups: dict[str, list[Path]] = {
        "ppo_greedy": [root / "eval" / "ppo_greedy" / f"seed{s}" for s in range(config.train_seeds)],
        "ppo_sampled": [root / "eval" / "ppo_sampled" / f"seed{s}" for s in range(config.train_seeds)],
        "heuristic": [root / "eval" / "heuristic"],
        "no_growth": [root / "eval" / "no_growth"],
        **{name: [root / "eval" / name] for name in external},
    }
    policies = {name: _policy_summary([_policy_data(f) for f in folders], chance) for name, folders in groups.items()}
    training = _training_summary([_policy_data(f) for f in train_folders], chance)
    all_folders = train_folders + [f for folders in groups.values() for f in folders]
    return {
        "config": config.to_dict(),
        "chance_accuracy": chance,
        "policies": policies,
        "training": training,
        "targets": _targets(policies, training),
        "wall_seconds": {
            "training": _seconds(train_folders),
            "total": _seconds(all_folders),
            "elapsed": _elapsed(root / ELAPSED_FILE),
        },
    }


def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return str(value)


def render_markdown(study: Json) -> str:
    cfg, policies, training, targets = study["config"], study["policies"], study["training"], study["targets"]
    assert isinstance(cfg, dict) and isinstance(policies, dict) and isinstance(training, dict) and isinstance(targets, dict)
    wall = study["wall_seconds"]
    assert isinstance(wall, dict)
    lines = [
        f"# Study: {cfg['task']}",
        "",
        f"PPO trained with {cfg['train_seeds']} training seeds × {cfg['train_episodes']} episodes "
        f"({cfg['n_envs']} envs, {cfg['max_epochs']} epochs per episode, reward `{cfg['reward_mode']}`); every policy "
        f"evaluated on the same {cfg['eval_episodes']} held-out hosts (run seed {cfg['eval_seed']}, never trained on). "
        f"Elapsed: {wall['elapsed'] / 60:.1f} min. Run time summed over runs (they overlap with `--jobs`): "
        f"{wall['total'] / 60:.1f} min, {wall['training'] / 60:.1f} min of it PPO training.",
        "",
        "| policy | final val. accuracy, mean ± 95 % CI | CI over | episodes | params added | germinated / ep. | fossilized / ep. | collapsed episodes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, p in policies.items():
        acc = p["final_accuracy"]
        lines.append(
            f"| {name} | {acc['mean']:.1f} ± {acc['half_width']:.1f} % | {p['runs']} {p['final_accuracy_ci_unit']}s "
            f"| {p['episodes']} | {p['params_added_mean']:.0f} | {p['seeds_germinated_mean']:.2f} "
            f"| {p['seeds_fossilized_mean']:.2f} | {p['collapsed_episodes']} |"
            if p["runs"] > 1
            else f"| {name} | {acc['mean']:.1f} ± {acc['half_width']:.1f} % | {p['episodes']} episodes | {p['episodes']} "
            f"| {p['params_added_mean']:.0f} | {p['seeds_germinated_mean']:.2f} | {p['seeds_fossilized_mean']:.2f} "
            f"| {p['collapsed_episodes']} |"
        )
    lines += ["", "PPO per training seed (greedy): " + ", ".join(f"{v:.1f}" for v in policies["ppo_greedy"]["final_accuracy_per_seed"]) + " %."]
    lines += [
        "",
        "## Training",
        "",
        f"{training['updates']} PPO updates per seed; tempo entropy (mean over seeds) {_fmt(training['tempo_entropy_first'])} → "
        f"{_fmt(training['tempo_entropy_last'])} nats (ln 3 = 1.099); per seed at the end: "
        + ", ".join(_fmt(v) for v in training["tempo_entropy_last_per_seed"])
        + f". Op entropy at the end: {_fmt(training['op_entropy_last'])}. Collapsed training episodes: "
        f"{training['collapsed_episodes']} of {training['episodes']}.",
        "",
    ]
    curve = training["tempo_entropy_mean_curve"]
    if curve:
        step = max(1, len(curve) // 10)
        lines += ["| update | " + " | ".join(str(i) for i in range(0, len(curve), step)) + " |"]
        lines += ["|---|" + "---|" * len(range(0, len(curve), step))]
        lines += ["| tempo entropy | " + " | ".join(f"{curve[i]:.3f}" for i in range(0, len(curve), step)) + " |", ""]
    lines += ["## Tempo usage (germinations on the evaluation set)", "", "| policy | " + " | ".join(tempo_label(t) for t in sorted(TEMPO_NAMES)) + " |"]
    lines += ["|---|" + "---|" * len(TEMPO_NAMES)]
    for name, p in policies.items():
        lines.append(f"| {name} | " + " | ".join(str(v) for v in p["tempo_usage"].values()) + " |")
    lines += ["", "## Blueprint × tempo (germinations on the evaluation set)", ""]
    for name, p in policies.items():
        table = p["blueprint_x_tempo"]
        if not table:
            continue
        lines += [f"**{name}**", "", "| blueprint | " + " | ".join(TEMPO_NAMES[t] for t in sorted(TEMPO_NAMES)) + " |"]
        lines += ["|---|" + "---|" * len(TEMPO_NAMES)]
        lines += [f"| {b} | " + " | ".join(str(v) for v in row.values()) + " |" for b, row in table.items()]
        lines.append("")
    lines += ["## Targets (issue 10)", ""]
    lines += [f"- {name}: {'yes' if ok else ('no' if ok is False else 'n/a')}" for name, ok in targets.items()]
    return "\n".join(lines) + "\n"


def write_study_report(root: Path, config: StudyConfig, external: list[str]) -> Path:
    """Write ``study.json`` and ``study.md`` into ``root``; returns the Markdown path."""
    study = build_study(root, config, external)
    (root / "study.json").write_text(json.dumps(study, indent=2, allow_nan=False) + "\n")
    md = root / "study.md"
    md.write_text(render_markdown(study))
    return md


__all__ = ["COLLAPSE_CHANCE_FACTOR", "COLLAPSE_DROP", "build_study", "render_markdown", "write_study_report"]
