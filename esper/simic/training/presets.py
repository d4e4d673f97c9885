"""Named run presets for the CLI (``--preset``); explicit flags override them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Preset:
    task: str
    episodes: int
    n_envs: int
    max_epochs: int
    description: str


PRESETS: dict[str, Preset] = {
    "smoke": Preset("digits_blind", episodes=2, n_envs=2, max_epochs=4, description="seconds-long plumbing check"),
    "digits": Preset("digits", episodes=48, n_envs=4, max_epochs=25, description="standard CNN on 8x8 digits"),
    "digits_blind": Preset(
        "digits_blind", episodes=48, n_envs=4, max_epochs=25, description="1x1-conv host: seeds can rescue accuracy"
    ),
    "cifar10": Preset("cifar10", episodes=16, n_envs=2, max_epochs=25, description="CIFAR-10 from --data-dir"),
    "text": Preset("text", episodes=16, n_envs=2, max_epochs=25, description="char-level transformer on stdlib source"),
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"preset {name!r} is unknown; valid: {list(PRESETS)}")
    return PRESETS[name]
