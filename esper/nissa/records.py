"""Telemetry events grouped per policy into typed records (the input of the summary, tables and plots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from esper.leyline import HEAD_NAMES, TelemetryEvent, TelemetryEventType
from esper.leyline.validation import check_float
from esper.nissa.runs import TELEMETRY_FILE, RunData

#: Preferred display order of the policies written by ``esper demo``; others follow alphabetically.
POLICY_ORDER: tuple[str, ...] = ("ppo", "heuristic", "baseline")
#: ``ppo_update_completed`` keys with one entropy per head.
ENTROPY_KEYS: tuple[str, ...] = tuple(f"entropy_{head}" for head in HEAD_NAMES)
_REQUIRED_EPISODE_KEYS = (
    "final_val_accuracy",
    "best_val_accuracy",
    "seeds_germinated",
    "seeds_fossilized",
    "seeds_culled",
    "params_added",
)


@dataclass(frozen=True, slots=True)
class EpisodeRecord:
    """One completed env episode."""

    final_val_accuracy: float
    best_val_accuracy: float
    episode_return: float | None
    seeds_germinated: int
    seeds_fossilized: int
    seeds_culled: int
    params_added: float


@dataclass(frozen=True, slots=True)
class SeedRecord:
    """A germinated, fossilized or culled seed: blueprint and tempo (blend epochs)."""

    blueprint_id: str
    tempo_epochs: int


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    """One PPO update: its index and numeric metrics (entropies, KL, ...)."""

    index: int
    values: dict[str, float]


@dataclass(slots=True)
class PolicyData:
    """Everything the report shows about one policy of one run folder."""

    label: str
    policy: str
    folder: Path
    episodes: list[EpisodeRecord] = field(default_factory=list)
    germinations: list[SeedRecord] = field(default_factory=list)
    fossilized: list[SeedRecord] = field(default_factory=list)
    culled: list[SeedRecord] = field(default_factory=list)
    updates: list[UpdateRecord] = field(default_factory=list)

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """``(update indices, values)`` of one PPO metric, skipping updates without it."""
        pairs = [(u.index, u.values[key]) for u in self.updates if key in u.values]
        return [i for i, _ in pairs], [v for _, v in pairs]


def _where(run: RunData, n: int, event: TelemetryEvent) -> str:
    return f"{run.folder / TELEMETRY_FILE}: event #{n} ({event.event_type.value})"


def _finite(value: object) -> float | None:
    """``value`` as a finite float, or None (not a number, NaN/inf, or an int too large for a float)."""
    try:
        return check_float("value", value)
    except (TypeError, ValueError):
        return None


def _number(event: TelemetryEvent, key: str, where: str) -> float:
    value = _finite(event.data.get(key))
    if value is None:
        raise ValueError(f"{where}: data[{key!r}] must be a finite number, got {event.data.get(key)!r}")
    return value


def _optional_number(event: TelemetryEvent, key: str) -> float | None:
    return _finite(event.data.get(key))


def _episode(event: TelemetryEvent, where: str) -> EpisodeRecord:
    values = {key: _number(event, key, where) for key in _REQUIRED_EPISODE_KEYS}
    return EpisodeRecord(
        final_val_accuracy=values["final_val_accuracy"],
        best_val_accuracy=values["best_val_accuracy"],
        episode_return=_optional_number(event, "episode_return"),
        seeds_germinated=int(values["seeds_germinated"]),
        seeds_fossilized=int(values["seeds_fossilized"]),
        seeds_culled=int(values["seeds_culled"]),
        params_added=values["params_added"],
    )


def _seed(event: TelemetryEvent, where: str) -> SeedRecord:
    blueprint = event.data.get("blueprint_id")
    if not isinstance(blueprint, str) or not blueprint:
        raise ValueError(f"{where}: data['blueprint_id'] must be a non-empty string, got {blueprint!r}")
    return SeedRecord(blueprint_id=blueprint, tempo_epochs=int(_number(event, "blend_tempo_epochs", where)))


def _update(event: TelemetryEvent, ordinal: int) -> UpdateRecord:
    values = {key: f for key, f in ((key, _finite(v)) for key, v in event.data.items()) if f is not None}
    raw_index = event.data.get("update")
    index = raw_index if isinstance(raw_index, int) and not isinstance(raw_index, bool) else ordinal
    values.pop("update", None)
    return UpdateRecord(index=index, values=values)


def _default_policy(run: RunData) -> str:
    """Policy of untagged events: ``config.json``'s, else the one policy tagging the run's episodes, else the folder."""
    if "policy" in run.config:
        return run.policy
    tags = {
        e.data.get("policy") for e in run.events if e.event_type == TelemetryEventType.EPISODE_COMPLETED
    } - {None, ""}
    if len(tags) == 1:
        (only,) = tags
        if isinstance(only, str):
            return only
    return run.policy


def _sort_key(data: PolicyData) -> tuple[int, str]:
    rank = POLICY_ORDER.index(data.policy) if data.policy in POLICY_ORDER else len(POLICY_ORDER)
    return rank, data.label


def collect_policies(runs: list[RunData]) -> list[PolicyData]:
    """Group events by (run folder, policy); an event's policy is ``data['policy']`` or the run's policy.

    Labels are policy names, suffixed with the folder name when one policy appears in several folders.
    """
    groups: dict[tuple[Path, str], PolicyData] = {}
    for run in runs:
        updates_seen = 0
        default = _default_policy(run)
        for n, event in enumerate(run.events, start=1):
            tagged = event.data.get("policy")
            policy = tagged if isinstance(tagged, str) and tagged else default
            data = groups.setdefault((run.folder, policy), PolicyData(label=policy, policy=policy, folder=run.folder))
            where = _where(run, n, event)
            kind = event.event_type
            if kind == TelemetryEventType.EPISODE_COMPLETED:
                data.episodes.append(_episode(event, where))
            elif kind == TelemetryEventType.SEED_GERMINATED:
                data.germinations.append(_seed(event, where))
            elif kind == TelemetryEventType.SEED_FOSSILIZED:
                data.fossilized.append(_seed(event, where))
            elif kind == TelemetryEventType.SEED_CULLED:
                data.culled.append(_seed(event, where))
            elif kind == TelemetryEventType.PPO_UPDATE_COMPLETED:
                data.updates.append(_update(event, updates_seen))
                updates_seen += 1
    counts: dict[str, int] = {}
    for data in groups.values():
        counts[data.policy] = counts.get(data.policy, 0) + 1
    for data in groups.values():
        if counts[data.policy] > 1:
            data.label = f"{data.policy} ({data.folder.name})"
    policies = sorted(groups.values(), key=_sort_key)
    empty = [f"{p.label} in {p.folder / TELEMETRY_FILE}" for p in policies if not p.episodes]
    if empty:
        raise ValueError(f"no episode_completed events for: {', '.join(empty)}; nothing to report")
    return policies


__all__ = [
    "ENTROPY_KEYS",
    "POLICY_ORDER",
    "EpisodeRecord",
    "PolicyData",
    "SeedRecord",
    "UpdateRecord",
    "collect_policies",
]
