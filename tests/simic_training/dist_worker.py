"""A rank of a 2-process gloo run, started by ``test_distributed_runs.py`` (spawn): joins the group the way
``torchrun`` workers do (launcher environment variables) and runs the scenarios it is given."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from esper.simic.training import TrainingConfig, VectorizedTrainer
from esper.simic.training.distributed import init_distributed

Scenario = tuple[str, dict[str, object], bool]
"""(name, TrainingConfig fields, resume)."""


def run_rank(rank: int, world_size: int, port: int, root: str, scenarios: list[Scenario]) -> None:
    os.environ.update(
        WORLD_SIZE=str(world_size), RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    torch.set_num_threads(1)
    context = init_distributed("cpu")
    try:
        for name, fields, resume in scenarios:
            # Every rank but 0 is given its own folder, which it must never create (rank 0 owns the run folder).
            out = Path(root) / (name if rank == 0 else f"{name}-rank{rank}")
            trainer = VectorizedTrainer(TrainingConfig(**fields), out, context=context)  # type: ignore[arg-type]
            result = trainer.run(resume=resume)
            agent = trainer.agent
            state = {
                "final_accuracies": result.final_accuracies,
                "actions": result.actions,
                "network": None if agent is None else agent.network.state_dict(),
                "normalizer": None if agent is None else agent.obs_normalizer.state_dict(),
            }
            torch.save(state, Path(root) / f"{name}.rank{rank}.pt")
    finally:
        context.close()
