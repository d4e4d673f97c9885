"""Training on several processes and machines with ``torch.distributed`` (DD-PPO; decisions ``DEC.distributed.*``).

Launch with ``torchrun`` (``--standalone --nproc_per_node N`` on one machine, ``--nnodes/--rdzv-endpoint`` across
machines). :func:`init_distributed` reads the launcher's environment (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``,
``MASTER_ADDR``, ``MASTER_PORT``) and joins the process group: gloo on CPU, NCCL on CUDA (one GPU per process,
``cuda:LOCAL_RANK``). Each rank steps a contiguous share of the envs (:meth:`EnvShard.of_rank
<esper.simic.agent.collective.EnvShard.of_rank>`); all ranks hold the same policy. Rank 0 alone touches the
run folder; the other ranks' telemetry reaches it through :class:`RankTelemetry`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TypeVar, cast

import torch
import torch.distributed as dist

from esper.leyline import TelemetryEvent
from esper.nissa.hub import TelemetryHub
from esper.simic.agent.collective import EnvShard
from esper.simic.agent.ppo import PPOAgent

T = TypeVar("T")

LAUNCH_VARS = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
"""Environment variables torchrun sets for every worker."""

DEFAULT_TIMEOUT = timedelta(minutes=30)
"""How long a collective waits for the other ranks (an env epoch on a large host can take minutes)."""


class DistContext:
    """This process's place in the run: ``rank`` of ``world_size`` (``world_size == 1``: no process group).

    Implements :class:`~esper.simic.agent.collective.Collective` for :class:`PPOAgent`, plus the object and row
    collectives the training loop needs. Every method is a collective: all ranks must call it, in the same order.
    """

    def __init__(self, rank: int = 0, world_size: int = 1, local_rank: int = 0, backend: str | None = None) -> None:
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"need world_size >= 1 and 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        if world_size > 1 and backend is None:
            raise ValueError("a context of several processes needs the backend of its initialised process group")
        self._rank = rank
        self._world_size = world_size
        self.local_rank = local_rank
        self.backend = backend

    @property
    def rank(self) -> int:
        return self._rank

    @property
    def world_size(self) -> int:
        return self._world_size

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes the run folder."""
        return self._rank == 0

    def __repr__(self) -> str:
        return f"DistContext(rank={self._rank}, world_size={self._world_size}, backend={self.backend!r})"

    def shard(self, n_envs: int) -> EnvShard:
        """This rank's contiguous share of ``n_envs`` envs."""
        return EnvShard.of_rank(n_envs, self._world_size, self._rank)

    def resolve_device(self, device: str) -> torch.device:
        """The device this rank trains on: ``cuda`` becomes ``cuda:LOCAL_RANK`` when there are several ranks.

        Raises ``ValueError`` for an explicit ``cuda:N`` with several ranks (they would share one GPU) and for
        a CUDA device with a gloo group or a CPU device with an NCCL group.
        """
        resolved = torch.device(device)
        if self._world_size == 1:
            return resolved
        if resolved.type == "cuda":
            index: int | None = resolved.index  # None for a bare "cuda"
            if index is not None:
                raise ValueError(
                    f"device {device!r} names one GPU, but {self._world_size} processes run: pass --device cuda "
                    "(each process then uses cuda:LOCAL_RANK)"
                )
            resolved = torch.device("cuda", self.local_rank)
        wanted = "nccl" if resolved.type == "cuda" else "gloo"
        if self.backend != wanted:
            raise ValueError(f"device {device!r} needs the {wanted} backend, the process group uses {self.backend}")
        return resolved

    # --- collectives --------------------------------------------------------------------------------------------
    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over ranks, in place; returns it."""
        if self._world_size > 1:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def all_gather_rows(self, tensor: torch.Tensor, counts: list[int]) -> torch.Tensor:
        """Concatenate every rank's ``(counts[rank], ...)`` tensor along dim 0, in rank order."""
        if len(counts) != self._world_size or tensor.shape[0] != counts[self._rank]:
            raise ValueError(f"rank {self._rank} has {tensor.shape[0]} rows, counts say {counts}")
        if self._world_size == 1:
            return tensor
        longest = max(counts)
        padded = tensor.new_zeros((longest, *tensor.shape[1:]))
        padded[: tensor.shape[0]] = tensor
        parts = [torch.empty_like(padded) for _ in counts]
        dist.all_gather(parts, padded.contiguous())
        return torch.cat([part[:count] for part, count in zip(parts, counts, strict=True)])

    def all_gather_object(self, obj: T) -> list[T]:
        """``obj`` of every rank (picklable), in rank order."""
        if self._world_size == 1:
            return [obj]
        out: list[object] = [None] * self._world_size
        dist.all_gather_object(out, obj)
        return [cast(T, item) for item in out]  # every rank sent a T

    def gather_to_main(self, obj: T) -> list[T]:
        """``obj`` of every rank on rank 0 (in rank order); ``[]`` on the other ranks."""
        if self._world_size == 1:
            return [obj]
        out: list[object] | None = [None] * self._world_size if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return [] if out is None else [cast(T, item) for item in out]  # every rank sent a T

    def broadcast_object(self, obj: T | None) -> T:
        """Rank 0's ``obj`` (not ``None``) on every rank (the others pass ``None``)."""
        box: list[object] = [obj]
        if self._world_size > 1:
            dist.broadcast_object_list(box, src=0)
        if box[0] is None:
            raise ValueError("broadcast_object: rank 0 must pass an object, got None")
        return cast(T, box[0])  # rank 0's T, pickled round trip

    def on_main(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on rank 0 and give its result to every rank; an exception it raises is raised on every rank
        (so a refused ``--resume`` stops all of them, instead of leaving the others waiting)."""
        if self._world_size == 1:
            return fn()
        outcome: tuple[bool, object] | None = None  # rank 0: (True, result) or (False, exception)
        if self.is_main:
            try:
                outcome = (True, fn())
            except Exception as exc:  # re-raised below, on every rank
                outcome = (False, exc)
        ok, value = self.broadcast_object(outcome)
        if not ok:
            assert isinstance(value, BaseException)
            raise value
        return cast(T, value)  # fn's T, pickled round trip

    def sync_agent(self, agent: PPOAgent) -> None:
        """Give every rank rank 0's network, optimiser and normaliser state (after start or resume)."""
        if self._world_size == 1:
            return
        state = None
        if self.is_main:
            state = (
                agent.network.state_dict(),
                agent.optimizer.state_dict(),
                agent.obs_normalizer.state_dict(),
            )
        network, optimizer, normalizer = self.broadcast_object(state)
        if not self.is_main:
            agent.network.load_state_dict(network)
            agent.optimizer.load_state_dict(optimizer)
            agent.obs_normalizer.load_state_dict(normalizer)

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        if self._world_size > 1:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group (no-op for one process)."""
        if self._world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()


def launched_world_size(environ: Mapping[str, str] | None = None) -> int:
    """``WORLD_SIZE`` from a launcher's environment (1 when absent); ``ValueError`` when malformed."""
    env = os.environ if environ is None else environ
    raw = env.get("WORLD_SIZE", "1")
    try:
        world = int(raw)
    except ValueError:
        raise ValueError(f"WORLD_SIZE must be an int, got {raw!r}") from None
    if world < 1:
        raise ValueError(f"WORLD_SIZE must be >= 1, got {world}")
    return world


def init_distributed(
    device: str, environ: Mapping[str, str] | None = None, *, timeout: timedelta = DEFAULT_TIMEOUT
) -> DistContext:
    """Join the process group described by a launcher's environment variables (``torchrun``).

    No ``WORLD_SIZE`` (or ``WORLD_SIZE=1``): a single process, nothing initialised. ``WORLD_SIZE > 1``: every
    variable of :data:`LAUNCH_VARS` must be set, else ``ValueError`` (refusing to run ``WORLD_SIZE`` independent
    copies that would overwrite one run folder); the group uses NCCL when ``device`` is CUDA, gloo otherwise.
    """
    env = os.environ if environ is None else environ
    world = launched_world_size(env)
    if world == 1:
        return DistContext()
    missing = [name for name in LAUNCH_VARS if not env.get(name)]
    if missing:
        raise ValueError(
            f"WORLD_SIZE={world} but {missing} are not set: launch distributed runs with torchrun "
            "(e.g. torchrun --standalone --nproc_per_node N -m esper train ...), never as independent copies"
        )
    rank, local_rank = int(env["RANK"]), int(env["LOCAL_RANK"])
    backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
    if dist.is_initialized():
        if dist.get_world_size() != world or dist.get_rank() != rank:
            raise ValueError(
                f"a process group (rank {dist.get_rank()} of {dist.get_world_size()}) is already initialised, "
                f"the environment says rank {rank} of {world}"
            )
        return DistContext(rank, world, local_rank, str(dist.get_backend()))
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available; use --device cpu")
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend, init_method="env://", rank=rank, world_size=world, timeout=timeout)
    return DistContext(rank, world, local_rank, backend)


class RankTelemetry:
    """Telemetry of one rank: every event gets ``data["rank"]``; rank 0 emits into its hub (which writes the
    run folder), the other ranks keep their events until :meth:`flush` gathers them to rank 0, which emits them
    after its own, in rank order (their ``env`` ids are global)."""

    def __init__(self, context: DistContext, hub: TelemetryHub) -> None:
        self.context = context
        self.hub = hub
        self._pending: list[TelemetryEvent] = []

    def emit(self, event: TelemetryEvent) -> None:
        tagged = TelemetryEvent(
            event_type=event.event_type,
            data={**event.data, "rank": self.context.rank},
            slot_id=event.slot_id,
            seed_id=event.seed_id,
            epoch=event.epoch,
            timestamp=event.timestamp,
        )
        if self.context.is_main:
            self.hub.emit(tagged)
        else:
            self._pending.append(tagged)

    __call__ = emit

    def flush(self) -> None:
        """Collective: bring the other ranks' pending events to rank 0's hub."""
        if self.context.world_size == 1:
            return
        gathered = self.context.gather_to_main(self._pending)
        self._pending = []
        for events in gathered[1:]:
            for event in events:
                self.hub.emit(event)




def gather_acting_inputs(
    context: DistContext, n_envs: int, obs: torch.Tensor, masks: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """All ranks' raw observations ``(n_envs, obs_dim)`` and action masks ``{head: (n_envs, size)}``, from this
    rank's rows, in env order (one all-gather; identity for one process). Every rank then normalises and acts
    for all envs with the same RNG, so actions and normaliser statistics equal a single process's
    (decision ``DEC.distributed.1``)."""
    if context.world_size == 1:
        return obs, masks
    counts = [EnvShard.of_rank(n_envs, context.world_size, rank).count for rank in range(context.world_size)]
    names = list(masks)
    sizes = [masks[name].shape[-1] for name in names]
    packed = torch.cat([obs, *(masks[name].to(obs.dtype) for name in names)], dim=1)
    full = context.all_gather_rows(packed, counts)
    all_obs, *all_masks = torch.split(full, [obs.shape[1], *sizes], dim=1)
    return all_obs.contiguous(), {name: part > 0.5 for name, part in zip(names, all_masks, strict=True)}



def _local_rank(rank: int, world_size: int, port: int, fn: Callable[..., None], args: tuple[object, ...]) -> None:
    os.environ.update(
        WORLD_SIZE=str(world_size), RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    torch.set_num_threads(1)
    context = init_distributed("cpu")
    try:
        fn(context, *args)
    finally:
        context.close()


def spawn_local(fn: Callable[..., None], world_size: int, *args: object, timeout: float = 1800.0) -> None:
    """Run ``fn(context, *args)`` on ``world_size`` spawned CPU processes joined over gloo on 127.0.0.1 (tests,
    benchmarks; production runs use ``torchrun``). ``fn`` must be importable (module level); each process uses
    one intra-op thread. Raises ``RuntimeError`` naming the exit codes when a process fails or times out."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_local_rank, args=(rank, world_size, port, fn, args)) for rank in range(world_size)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=timeout)
    for proc in procs:
        if proc.is_alive():
            proc.kill()
            proc.join()
    codes = [proc.exitcode for proc in procs]
    if codes != [0] * world_size:
        raise RuntimeError(f"spawn_local: ranks exited with codes {codes} (see their tracebacks above)")


__all__ = [
    "DEFAULT_TIMEOUT",
    "LAUNCH_VARS",
    "DistContext",
    "RankTelemetry",
    "gather_acting_inputs",
    "init_distributed",
    "launched_world_size",
    "spawn_local",
]
