"""Unit tests of the governor's bookkeeping."""

from __future__ import annotations

import math

import torch

from esper.data import build_model, load_task
from esper.kasmina.host import MorphogeneticModel
from esper.tolaria import TolariaGovernor


def _model_and_opt() -> tuple[MorphogeneticModel, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = build_model(load_task("digits"))
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def test_constructor_snapshot_allows_immediate_rollback() -> None:
    model, opt = _model_and_opt()
    gov = TolariaGovernor(model, opt)
    original = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    report = gov.rollback()
    assert report.reason == "manual" and math.isnan(report.loss) and report.rollback_count == 1
    assert all(torch.equal(original[k], v) for k, v in model.state_dict().items())


def test_observe_snapshots_only_healthy_epochs() -> None:
    model, opt = _model_and_opt()
    gov = TolariaGovernor(model, opt, history=4)
    with torch.no_grad():
        next(model.parameters()).add_(0.5)
    good = {k: v.clone() for k, v in model.state_dict().items()}
    assert gov.observe(1.0) is None  # healthy: this state becomes the snapshot
    with torch.no_grad():
        next(model.parameters()).add_(0.5)
    report = gov.observe(math.inf)
    assert report is not None and report.reason == "inf"
    assert all(torch.equal(good[k], v) for k, v in model.state_dict().items())
    for value in (1.0, 2.0, 3.0, 4.0, 5.0):
        gov.check(value)
    assert list(gov.history) == [2.0, 3.0, 4.0, 5.0]  # bounded by `history`
