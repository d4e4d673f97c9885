"""A private random stream per environment, swapped into torch's default generators while the env works.

Host initialisation, seed-module initialisation at GERMINATE and any other draw an env makes come from its own
stream, seeded at every episode start, so an env's episode does not depend on which other envs run in the same
process or in which order; the policy's sampling RNG is untouched by env work. This is what lets a run split its
envs over several processes and still produce the same episodes (decision ``DEC.distributed.3``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


class RngStream:
    """Saved states of torch's CPU generator (and the CUDA generator of ``device``) for one env."""

    def __init__(self, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self._cpu: torch.Tensor | None = None
        self._cuda: torch.Tensor | None = None

    def _cuda_index(self) -> int:
        return torch.cuda.current_device() if self.device.index is None else self.device.index

    def seed(self, seed: int) -> None:
        """Restart the stream from ``seed`` (same states as ``torch.manual_seed(seed)`` gives)."""
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        self._cpu = torch.Generator().manual_seed(seed).get_state()
        if self.device.type == "cuda":
            gen = torch.Generator(device=torch.device("cuda", self._cuda_index()))
            self._cuda = gen.manual_seed(seed).get_state()

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Run the body with this stream as torch's default RNG; restores the outer state afterwards."""
        if self._cpu is None:
            raise RuntimeError("RngStream.seed(seed) must be called before scope()")
        outer_cpu = torch.get_rng_state()
        torch.set_rng_state(self._cpu)
        outer_cuda: torch.Tensor | None = None
        if self._cuda is not None:
            index = self._cuda_index()
            outer_cuda = torch.cuda.get_rng_state(index)
            torch.cuda.set_rng_state(self._cuda, index)
        try:
            yield
        finally:
            self._cpu = torch.get_rng_state()
            torch.set_rng_state(outer_cpu)
            if outer_cuda is not None:
                index = self._cuda_index()
                self._cuda = torch.cuda.get_rng_state(index)
                torch.cuda.set_rng_state(outer_cuda, index)


__all__ = ["RngStream"]
