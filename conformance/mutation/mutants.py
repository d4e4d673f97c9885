"""Planted plan violations, each named by the requirement it breaks.

A mutant replaces one exact snippet of this package's source with a violating one. ``old`` must occur exactly
once in ``path`` (else the mutant is *stale* and ``make mutation`` fails, naming it, so the list is kept in step
with the code).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    requirement: str
    """The requirement the violation breaks; the kit's tests for it are the ones run."""
    path: str
    """File relative to the target root."""
    old: str
    new: str
    description: str


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "head-names-without-tempo", "T01.1", "esper/leyline/__init__.py",
        'HEAD_NAMES: tuple[str, ...] = ("slot", "blueprint", "blend", "tempo", "op")',
        'HEAD_NAMES: tuple[str, ...] = ("slot", "blueprint", "blend", "op")',
        "tempo missing from HEAD_NAMES",
    ),
    Mutant(
        "head-names-tempo-after-op", "T01.1", "esper/leyline/__init__.py",
        'HEAD_NAMES: tuple[str, ...] = ("slot", "blueprint", "blend", "tempo", "op")',
        'HEAD_NAMES: tuple[str, ...] = ("slot", "blueprint", "blend", "op", "tempo")',
        "tempo after op in HEAD_NAMES",
    ),
    Mutant(
        "slow-is-5-epochs", "T02.2", "esper/leyline/factored_actions.py",
        "    TempoAction.SLOW: 8,", "    TempoAction.SLOW: 5,",
        "SLOW = 5 epochs",
    ),
    Mutant(
        "to-indices-swaps-blend-and-tempo", "T03.3", "esper/leyline/factored_actions.py",
        "self.blend.value, self.tempo.value", "self.tempo.value, self.blend.value",
        "to_indices returns tempo in the blend position",
    ),
    Mutant(
        "tempo-mask-forbids-slow", "T04.1", "esper/tamiyo/policy/action_masks.py",
        '    return torch.ones(NUM_TEMPO, dtype=torch.bool, device=check_device("device", device, available=True))',
        '    return torch.tensor([True, True, False], device=check_device("device", device, available=True))',
        "compute_tempo_mask masks SLOW",
    ),
    Mutant(
        "action-masks-bypass-compute-tempo-mask", "T04.2", "esper/tamiyo/policy/action_masks.py",
        '"tempo": compute_tempo_mask(slot_states, device=device),',
        '"tempo": torch.ones(NUM_TEMPO, dtype=torch.bool, device=device),',
        "compute_action_masks re-implements the tempo row (compute_tempo_mask dead code)",
    ),
    Mutant(
        "seed-state-default-tempo-3", "T05.1", "esper/kasmina/state.py",
        "    blend_tempo_epochs: int = DEFAULT_BLENDING_TOTAL_STEPS",
        "    blend_tempo_epochs: int = 3",
        "SeedState.blend_tempo_epochs defaults to FAST",
    ),
    Mutant(
        "to-dict-drops-tempo", "T05.2", "esper/kasmina/state.py",
        '            "blend_tempo_epochs": self.blend_tempo_epochs,\n', "",
        "tempo dropped from to_dict",
    ),
    Mutant(
        "from-dict-ignores-tempo", "T05.3", "esper/kasmina/state.py",
        'tempo = read_int(d, "blend_tempo_epochs", _WHAT, minimum=1) if "blend_tempo_epochs" in d else (',
        'tempo = DEFAULT_BLENDING_TOTAL_STEPS if "blend_tempo_epochs" in d else (',
        "from_dict ignores the stored tempo",
    ),
    Mutant(
        "germinate-does-not-store-tempo", "T06.1", "esper/kasmina/slot.py",
        "        state.blend_tempo_epochs = tempo\n", "        state.blend_tempo_epochs = 5\n",
        "germinate writes STANDARD into the state whatever the argument",
    ),
    Mutant(
        "ramp-ignores-stored-tempo", "T07.1", "esper/kasmina/slot.py",
        "        total_steps = self._blend_tempo_epochs\n", "        total_steps = None\n",
        "the alpha ramp uses the default length instead of the stored tempo",
    ),
    Mutant(
        "isolation-ignores-topology", "T07.2", "esper/kasmina/slot.py",
        '            self.isolate_gradients = self.topology == "cnn"',
        "            self.isolate_gradients = True",
        "entering BLENDING isolates gradients for every topology",
    ),
    Mutant(
        "host-does-not-forward-tempo", "T11.3.1", "esper/kasmina/host.py",
        "            blend_tempo_epochs=blend_tempo_epochs,\n        )",
        "            blend_tempo_epochs=5,\n        )",
        "Host.germinate_seed drops the tempo",
    ),
    Mutant(
        "loop-ignores-chosen-tempo", "T11.4.1", "esper/simic/training/environment.py",
        "tempo = action.tempo if self.forced_tempo is None else self.forced_tempo",
        "tempo = TempoAction.STANDARD if self.forced_tempo is None else self.forced_tempo",
        "the training loop germinates with STANDARD whatever the policy chose",
    ),
    Mutant(
        "force-standard-ignored", "PLAN.6", "esper/simic/training/environment.py",
        "tempo = action.tempo if self.forced_tempo is None else self.forced_tempo",
        "tempo = action.tempo",
        "the rollback quick fix does not force STANDARD",
    ),
    Mutant(
        "tempo-credit-unmasked", "T10.2", "esper/simic/agent/advantages.py",
        '    "tempo": "germinate",', '    "tempo": "always",',
        "tempo gets advantages (credit) on every step, not only GERMINATE",
    ),
    Mutant(
        "entropy-coef-without-tempo", "T10.3", "esper/simic/agent/ppo.py",
        "    return {name: 1.0 for name in HEAD_NAMES}",
        '    return {name: (0.0 if name == "tempo" else 1.0) for name in HEAD_NAMES}',
        "entropy_coef_per_head default gives tempo 0",
    ),
    Mutant(
        "blending-velocity-is-alpha", "T12.2", "esper/kasmina/slot.py",
        "t.blending_velocity = s.alpha / epochs_in_blend", "t.blending_velocity = s.alpha",
        "blending velocity not divided by the epochs in BLENDING",
    ),
    Mutant(
        "telemetry-tempo-stuck", "CHK.12.1", "esper/kasmina/slot.py",
        "        t.blend_tempo_epochs = s.blend_tempo_epochs\n", "        t.blend_tempo_epochs = 5\n",
        "SeedTelemetry.blend_tempo_epochs not filled from the seed",
    ),
    Mutant(
        "tempo-feature-stuck-at-5-12", "T13.2", "esper/tamiyo/policy/features.py",
        "_fraction(float(report.blend_tempo_epochs) / TEMPO_FEATURE_SCALE),",
        "_fraction(5.0 / TEMPO_FEATURE_SCALE),",
        "the tempo feature is forced to the default 5/12",
    ),
    Mutant(
        "graph-break-in-slot-forward", "CHK.15.2", "esper/kasmina/slot.py",
        "        x = h.detach() if self.isolate_gradients else h\n",
        "        torch._dynamo.graph_break()\n        x = h.detach() if self.isolate_gradients else h\n",
        "a graph break planted in SeedSlot.forward",
    ),
)
