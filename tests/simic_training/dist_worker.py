"""A rank of a 2-process gloo run, started by ``test_distributed_runs.py`` through ``spawn_local`` (which joins
the group the way ``torchrun`` workers do, from the launcher's environment variables)."""

from __future__ import annotations

from pathlib import Path

import torch

from esper.simic.training import TrainingConfig, VectorizedTrainer
from esper.simic.training.distributed import DistContext

Scenario = tuple[str, TrainingConfig, bool]
"""(name, config, resume)."""


def run_scenarios(context: DistContext, root: str, scenarios: list[Scenario]) -> None:
    for name, config, resume in scenarios:
        # Every rank but 0 is given its own folder, which it must never create (rank 0 owns the run folder).
        out = Path(root) / (name if context.is_main else f"{name}-rank{context.rank}")
        trainer = VectorizedTrainer(config, out, context=context)
        if name.startswith("refused"):  # rank 0 refuses the resume: every rank must raise, none may hang
            try:
                trainer.run(resume=resume)
            except (ValueError, FileNotFoundError) as exc:  # ResumeError is a ValueError
                torch.save({"error": str(exc)}, Path(root) / f"{name}.rank{context.rank}.pt")
            continue
        result = trainer.run(resume=resume)
        agent = trainer.agent
        state = {
            "final_accuracies": result.final_accuracies,
            "actions": result.actions,
            "network": None if agent is None else agent.network.state_dict(),
            "normalizer": None if agent is None else agent.obs_normalizer.state_dict(),
        }
        torch.save(state, Path(root) / f"{name}.rank{context.rank}.pt")
