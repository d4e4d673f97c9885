"""Plan Task 11: the training loop turns the five sampled head indices into an action and passes the chosen
tempo to ``Host.germinate_seed``; the rollback quick fix forces STANDARD."""

from __future__ import annotations

import pytest

from conformance.adapter import ConformanceAdapter


def _germinate_row(slot: int, tempo: int) -> tuple[int, int, int, int, int]:
    """Head indices in HEAD_NAMES order: GERMINATE a NORM seed with the given tempo index."""
    from esper.leyline.factored_actions import BlueprintAction, LifecycleOp

    return (slot, int(BlueprintAction.NORM), 0, tempo, int(LifecycleOp.GERMINATE))


@pytest.mark.req("T11.1.1", "T11.2.1", "T11.4.1", "CHK.11.3", "CHK.11.4")
def test_the_sampled_tempo_index_decides_the_seeds_ramp(adapter: ConformanceAdapter) -> None:
    from esper.leyline import HEAD_NAMES
    from esper.leyline.factored_actions import TEMPO_TO_EPOCHS, TempoAction

    assert HEAD_NAMES.index("tempo") == 3
    rows = [_germinate_row(slot, int(tempo)) for slot, tempo in zip((0, 1, 2), TempoAction)]
    tempos = adapter.execute_in_loop(rows)
    assert tempos == [TEMPO_TO_EPOCHS[t] for t in TempoAction] == [3, 5, 8]


@pytest.mark.req("T11.2.1")
def test_non_germinate_actions_germinate_nothing(adapter: ConformanceAdapter) -> None:
    from esper.leyline.factored_actions import BlueprintAction, LifecycleOp

    assert adapter.execute_in_loop([(0, int(BlueprintAction.NORM), 0, 2, int(LifecycleOp.WAIT))]) == [None]


@pytest.mark.req("PLAN.6")
def test_rollback_quick_fix_forces_standard(adapter: ConformanceAdapter) -> None:
    from esper.leyline.factored_actions import TempoAction

    rows = [_germinate_row(0, int(TempoAction.FAST)), _germinate_row(1, int(TempoAction.SLOW))]
    assert adapter.execute_in_loop(rows, force_standard_tempo=True) == [5, 5]
