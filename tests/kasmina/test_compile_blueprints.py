"""torch.compile(fullgraph=True) of every blueprint of this package (the slot/host/policy compile suite is the
conformance kit's, conformance/compile/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from tests.kasmina.helpers import feature_shape, perturb_
from esper.kasmina import blueprint_names
from esper.kasmina import create_blueprint



@pytest.fixture(autouse=True)
def _fresh_dynamo() -> Iterator[None]:
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.req("CHK.15.2")
@pytest.mark.parametrize("topology", ["cnn", "transformer"])
def test_every_blueprint_compiles(topology: str) -> None:
    for name in blueprint_names(topology):
        torch._dynamo.reset()
        module = create_blueprint(topology, name, 8)
        perturb_(module)
        x = torch.randn(feature_shape(topology, 8))
        torch.testing.assert_close(torch.compile(module, fullgraph=True, backend="eager")(x), module(x))
