"""Host networks (CNN, GPT-style transformer) and the MorphogeneticModel that routes them through seed slots."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from esper.kasmina.gates import GateResult
from esper.kasmina.slot import SeedSlot
from esper.kasmina.state import SeedState
from esper.kasmina.task_config import TaskConfig
from esper.leyline.validation import check_int
from esper.kasmina.typed import run
from esper.leyline import SeedStateReport, TelemetryEvent

#: Number of transformer segments (one injection point after each).
TRANSFORMER_SEGMENTS = 3


class HostNetwork(nn.Module):
    """A host split into segments; an injection point (slot) follows each segment.

    ``forward(x) == head(segments[-1](...segments[0](embed(x))))``.
    """

    topology: str
    segments: nn.ModuleList
    injection_dims: tuple[int, ...]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def head(self, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for segment in self.segments:
            h = run(segment, h)
        return self.head(h)


class CNNHost(HostNetwork):
    """Conv blocks ``conv(k) + BN + ReLU + MaxPool(2, ceil_mode)``, each an injection point, then GAP + linear.

    ``kernel_size=1`` gives a spatially blind host: pooling still halves the maps, but only seeds mix positions.
    Ceil-mode pooling keeps small inputs valid (8x8 digits: 8 -> 4 -> 2 -> 1).
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        channels: Sequence[int] = (32, 64, 128),
        kernel_size: int = 3,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__()
        check_int("in_channels", in_channels, low=1)
        check_int("num_classes", num_classes, low=1)
        check_int("kernel_size", kernel_size, low=1)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding), got {kernel_size}")
        widths = tuple(channels)
        if not widths:
            raise ValueError("channels must list at least one block width, got ()")
        for i, w in enumerate(widths):
            check_int(f"channels[{i}]", w, low=1)
        self.topology = "cnn"
        self.in_channels = in_channels
        self.injection_dims = widths
        blocks: list[nn.Module] = []
        previous = in_channels
        for width in widths:
            blocks.append(nn.Sequential(
                nn.Conv2d(previous, width, kernel_size, padding=kernel_size // 2, bias=False, device=device),
                nn.BatchNorm2d(width, device=device),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ))
            previous = width
        self.segments = nn.ModuleList(blocks)
        self.classifier = nn.Linear(previous, num_classes, device=device)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must have shape (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        return x

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return run(self.classifier, h.mean(dim=(2, 3)))


class TransformerBlock(nn.Module):
    """Pre-norm GPT block: ``x + attn(LN(x))`` then ``x + mlp(LN(x))`` with causal attention."""

    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.ln1 = nn.LayerNorm(n_embd)
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = run(self.qkv, run(self.ln1, x)).chunk(3, dim=-1)
        shape = (b, t, self.n_head, d // self.n_head)
        y = F.scaled_dot_product_attention(
            q.view(shape).transpose(1, 2), k.view(shape).transpose(1, 2), v.view(shape).transpose(1, 2), is_causal=True)
        x = x + run(self.proj, y.transpose(1, 2).reshape(b, t, d))
        return x + run(self.mlp, run(self.ln2, x))


class TransformerHost(HostNetwork):
    """GPT-style language model: token + learned position embeddings, ``n_layer`` pre-norm blocks split into 3
    segments (an injection point after each), final LayerNorm and LM head. Input (B, T) token ids, T <= block_size;
    output (B, T, vocab_size) logits."""

    def __init__(
        self,
        vocab_size: int,
        n_embd: int = 64,
        n_head: int = 4,
        n_layer: int = 6,
        block_size: int = 64,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("n_embd", n_embd), ("n_head", n_head),
                            ("n_layer", n_layer), ("block_size", block_size)):
            check_int(name, value, low=1)
        if n_embd % n_head != 0:
            raise ValueError(f"n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        if n_layer < TRANSFORMER_SEGMENTS:
            raise ValueError(f"n_layer must be >= {TRANSFORMER_SEGMENTS} (one block per segment), got {n_layer}")
        self.topology = "transformer"
        self.vocab_size = vocab_size
        self.block_size = block_size
        self.injection_dims = (n_embd,) * TRANSFORMER_SEGMENTS
        with torch.device(device):
            self.tok_emb = nn.Embedding(vocab_size, n_embd)
            self.pos_emb = nn.Embedding(block_size, n_embd)
            sizes = [n_layer // TRANSFORMER_SEGMENTS + (1 if i < n_layer % TRANSFORMER_SEGMENTS else 0)
                     for i in range(TRANSFORMER_SEGMENTS)]
            self.segments = nn.ModuleList(
                nn.Sequential(*(TransformerBlock(n_embd, n_head) for _ in range(size))) for size in sizes)
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"x must be (B, T) integer token ids, got shape {tuple(x.shape)} dtype {x.dtype}")
        t = x.shape[1]
        if not 1 <= t <= self.block_size:
            raise ValueError(f"sequence length must be in [1, {self.block_size}] (block_size), got {t}")
        pos = torch.arange(t, device=x.device)
        return run(self.tok_emb, x) + run(self.pos_emb, pos)[None]

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return run(self.lm_head, run(self.ln_f, h))


class MorphogeneticModel(nn.Module):
    """A host with one :class:`SeedSlot` after each segment (slot ids ``r0c0, r0c1, ...``).

    Plan Task 11.3's ``Host``: germinate/cull/fossilize seeds by slot (a SeedSlot, an index or a slot id).
    """

    def __init__(
        self,
        host: HostNetwork,
        *,
        device: str | torch.device = "cpu",
        task_config: TaskConfig | None = None,
        on_event: Callable[[TelemetryEvent], None] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(host, HostNetwork):
            raise TypeError(f"host must be a HostNetwork (CNNHost, TransformerHost), got {type(host).__name__}")
        if task_config is not None and task_config.topology != host.topology:
            raise ValueError(f"task_config.topology {task_config.topology!r} disagrees with host topology "
                             f"{host.topology!r}")
        self.host = host.to(device)
        self.topology = host.topology
        self.task_config = task_config
        self.slots = nn.ModuleDict({
            f"r0c{i}": SeedSlot(f"r0c{i}", dim, device, topology=host.topology, task_config=task_config,
                                on_event=on_event)
            for i, dim in enumerate(host.injection_dims)
        })

    @property
    def slot_ids(self) -> tuple[str, ...]:
        return tuple(self.slots.keys())

    @property
    def seed_slots(self) -> tuple[SeedSlot, ...]:
        return tuple(self._slot_list())

    def _slot_list(self) -> list[SeedSlot]:
        result: list[SeedSlot] = []
        for module in self.slots.values():
            assert isinstance(module, SeedSlot)
            result.append(module)
        return result

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.host.embed(x)
        for segment, slot in zip(self.host.segments, self.slots.values()):
            h = run(slot, run(segment, h))
        return self.host.head(h)

    # ------------------------------------------------------------------ slot resolution
    def resolve_slot(self, slot: SeedSlot | int | str) -> SeedSlot:
        """The slot given as a SeedSlot of this model, an index or a slot id; ``ValueError`` lists the slot ids."""
        slots = self._slot_list()
        if isinstance(slot, SeedSlot):
            if any(slot is s for s in slots):
                return slot
            raise ValueError(f"slot {slot.slot_id!r} does not belong to this model; slot ids: {list(self.slot_ids)}")
        if isinstance(slot, int) and not isinstance(slot, bool):
            if 0 <= slot < len(slots):
                return slots[slot]
            raise ValueError(f"slot index {slot} out of range [0, {len(slots) - 1}]; slot ids: {list(self.slot_ids)}")
        if isinstance(slot, str):
            if slot in self.slots:
                return slots[self.slot_ids.index(slot)]
            raise ValueError(f"slot {slot!r} is unknown; slot ids: {list(self.slot_ids)}")
        raise TypeError(f"slot must be a SeedSlot, int index or slot id str, got {type(slot).__name__}")

    def first_empty_slot(self) -> SeedSlot | None:
        return next((s for s in self._slot_list() if s.is_empty), None)

    # ------------------------------------------------------------------ lifecycle
    def germinate_seed(
        self,
        blueprint_id: str,
        seed_id: str | None = None,
        slot: SeedSlot | int | str | None = None,
        blend_algorithm_id: str = "sigmoid",
        blend_tempo_epochs: int = 5,
    ) -> SeedState:
        """Germinate a seed in ``slot`` (None: the first empty slot), forwarding the tempo (plan Task 11.3)."""
        if slot is None:
            target_slot = self.first_empty_slot()
            if target_slot is None:
                stages = {s.slot_id: s.stage.name for s in self._slot_list()}
                raise ValueError(f"no empty slot to germinate in; slot stages: {stages}")
        else:
            target_slot = self.resolve_slot(slot)
        return target_slot.germinate(
            blueprint_id=blueprint_id,
            seed_id=seed_id,
            host_module=self.host,
            blend_algorithm_id=blend_algorithm_id,
            blend_tempo_epochs=blend_tempo_epochs,
        )

    def cull_seed(self, slot: SeedSlot | int | str, reason: str = "tamiyo") -> None:
        self.resolve_slot(slot).cull(reason)

    def fossilize_seed(self, slot: SeedSlot | int | str) -> GateResult:
        return self.resolve_slot(slot).fossilize()

    def step_epoch(self) -> list[bool]:
        """Advance every slot's lifecycle; auto-cull flags in slot order."""
        return [s.step_epoch() for s in self._slot_list()]

    def slot_reports(self) -> list[SeedStateReport | None]:
        return [s.report() for s in self._slot_list()]

    # ------------------------------------------------------------------ parameters
    def host_parameters(self) -> list[nn.Parameter]:
        return list(self.host.parameters())

    def seed_parameters(self) -> list[nn.Parameter]:
        """Parameters of every seed module in the slots (live and fossilized) and their blend gates."""
        return [p for s in self._slot_list() for p in s.seed_parameters()]

    @property
    def host_param_count(self) -> int:
        return sum(p.numel() for p in self.host_parameters())

    @property
    def seed_param_count(self) -> int:
        return sum(p.numel() for p in self.seed_parameters())


#: The plan's name for the slot-carrying model (Task 11.3).
Host = MorphogeneticModel

__all__ = ["CNNHost", "Host", "HostNetwork", "MorphogeneticModel", "TransformerBlock", "TransformerHost"]
