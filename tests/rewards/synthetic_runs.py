"""A synthetic report folder (runs/demo/{ppo,heuristic,baseline}) with known headline numbers."""

from __future__ import annotations

import json
from pathlib import Path

from esper.leyline import TelemetryEvent, TelemetryEventType
from esper.nissa import JsonlSink

BASELINE_FINAL = [70.0, 72.0, 74.0]
HEURISTIC_FINAL = [75.0, 77.0, 79.0, 81.0]
HEURISTIC_PARAMS = [100, 200, 300, 400]
PPO_FINAL = [72.0, 76.0, 80.0, 84.0, 88.0]
PPO_TEMPO_ENTROPY = [1.0986, 1.05, 1.0, 0.9, 0.8, 0.7]
#: (blueprint, tempo epochs) per germination / fossilization.
PPO_GERMINATED = [("conv_light", 3), ("conv_light", 3), ("depthwise", 5), ("conv_heavy", 8), ("conv_heavy", 8)]
PPO_FOSSILIZED = [("conv_heavy", 8), ("depthwise", 5)]
HEURISTIC_GERMINATED = [("conv_light", 5), ("conv_light", 5), ("conv_light", 5), ("norm", 5)]
HEURISTIC_FOSSILIZED = [("conv_light", 5)]


def _episode(
    policy: str, n: int, final: float, *, germ: int = 0, foss: int = 0, culled: int = 0, params: int = 0
) -> TelemetryEvent:
    return TelemetryEvent(
        TelemetryEventType.EPISODE_COMPLETED,
        {
            "policy": policy,
            "episode": n,
            "env": 0,
            "final_val_accuracy": final,
            "best_val_accuracy": final + 1.0,
            "episode_return": final / 20.0,
            "seeds_germinated": germ,
            "seeds_fossilized": foss,
            "seeds_culled": culled,
            "params_added": params,
            "host_params": 50_000,
        },
    )


def _seed(kind: TelemetryEventType, policy: str, blueprint: str, tempo: int, n: int) -> TelemetryEvent:
    data: dict[str, float | int | str | bool | None] = {"blueprint_id": blueprint, "blend_tempo_epochs": tempo}
    if kind == TelemetryEventType.SEED_GERMINATED:
        data.update(policy=policy, episode=n, env=0, blend_algorithm_id="sigmoid")
    else:
        data["reason"] = "tamiyo"
    return TelemetryEvent(kind, data, slot_id="r0c1", seed_id=f"{policy}-{blueprint}-{n}", epoch=3)


def _write(folder: Path, config: dict[str, object], events: list[TelemetryEvent]) -> None:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    sink = JsonlSink(folder / "telemetry.jsonl")
    for event in events:
        sink.emit(event)
    sink.close()


def write_demo_runs(root: Path) -> Path:
    """Write the three run folders under ``root`` and return ``root``."""
    baseline = [_episode("baseline", n, acc) for n, acc in enumerate(BASELINE_FINAL)]
    baseline.insert(
        1,
        TelemetryEvent(
            TelemetryEventType.EPOCH_COMPLETED,
            {"policy": "baseline", "episode": 0, "env": 0, "epoch": 1, "val_accuracy": 50.0, "train_loss": 1.0,
             "val_loss": 1.1, "reward": 0.0, "op": 0},
        ),
    )
    _write(root / "baseline", {"policy": "baseline", "task": "digits"}, baseline)

    heuristic: list[TelemetryEvent] = []
    fossilized = [1, 0, 0, 0]
    culled = [0, 1, 0, 1]
    for n, acc in enumerate(HEURISTIC_FINAL):
        blueprint, tempo = HEURISTIC_GERMINATED[n]
        heuristic.append(_seed(TelemetryEventType.SEED_GERMINATED, "heuristic", blueprint, tempo, n))
        if fossilized[n]:
            heuristic.append(_seed(TelemetryEventType.SEED_FOSSILIZED, "heuristic", blueprint, tempo, n))
        if culled[n]:
            heuristic.append(_seed(TelemetryEventType.SEED_CULLED, "heuristic", blueprint, tempo, n))
        heuristic.append(
            _episode("heuristic", n, acc, germ=1, foss=fossilized[n], culled=culled[n], params=HEURISTIC_PARAMS[n])
        )
    _write(root / "heuristic", {"policy": "heuristic", "task": "digits"}, heuristic)

    ppo: list[TelemetryEvent] = []
    for n, (blueprint, tempo) in enumerate(PPO_GERMINATED):
        ppo.append(_seed(TelemetryEventType.SEED_GERMINATED, "ppo", blueprint, tempo, n))
        foss = 1 if (blueprint, tempo) in PPO_FOSSILIZED and n in (2, 3) else 0
        if foss:
            ppo.append(_seed(TelemetryEventType.SEED_FOSSILIZED, "ppo", blueprint, tempo, n))
        ppo.append(_episode("ppo", n, PPO_FINAL[n], germ=1, foss=foss, culled=1 - foss, params=1000 * (n + 1)))
        for update in (2 * n, 2 * n + 1) if n < 3 else ():
            ppo.append(
                TelemetryEvent(
                    TelemetryEventType.PPO_UPDATE_COMPLETED,
                    {
                        "update": update,
                        "entropy_slot": 1.0,
                        "entropy_blueprint": 2.0,
                        "entropy_blend": 1.05,
                        "entropy_tempo": PPO_TEMPO_ENTROPY[update],
                        "entropy_op": 1.3,
                        "approx_kl": 0.01,
                        "clip_fraction": 0.1,
                        "explained_variance": 0.5,
                        "policy_loss": -0.01,
                        "value_loss": 0.3,
                    },
                )
            )
    _write(root / "ppo", {"policy": "ppo", "task": "digits"}, ppo)
    return root
