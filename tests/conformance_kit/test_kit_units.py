"""Units of the conformance kit: target description, known failures, adapter loading, the helpers' rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import torch

from conformance.adapter import ConformanceAdapter, load_adapter
from conformance.adapters.reference import ADAPTER, ReferenceAdapter
from conformance.target import KIT_ROOT, TargetError, describe, read_known_failures
from esper.kasmina.slot import SeedSlot
from esper.leyline import SeedStateReport
from esper.tamiyo.policy import action_masks as am


@pytest.mark.req("ISSUE.11.1")
def test_default_target_is_this_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("ESPER_CONFORMANCE_TARGET", "ESPER_CONFORMANCE_ADAPTER", "ESPER_CONFORMANCE_KNOWN_FAILURES"):
        monkeypatch.delenv(key, raising=False)
    target = describe()
    assert target.path == KIT_ROOT and target.version == "0.1.0"
    assert target.adapter_spec == "conformance.adapters.reference:ADAPTER"
    header = target.header()
    assert f"conformance target: {KIT_ROOT}" in header and "git revision: " in header and "version: 0.1.0" in header


@pytest.mark.req("ISSUE.11.1")
def test_target_must_be_a_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ESPER_CONFORMANCE_TARGET", str(tmp_path / "nope"))
    with pytest.raises(TargetError, match="ESPER_CONFORMANCE_TARGET=.*is not a directory"):
        describe()
    monkeypatch.setenv("ESPER_CONFORMANCE_TARGET", str(tmp_path))
    target = describe()
    assert target.path == tmp_path.resolve() and target.version == "unknown"
    assert target.revision.startswith("none")


@pytest.mark.req("ISSUE.11.4", "DEC.conformance.9")
def test_known_failures_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "conformance-known-failures.toml"
    path.write_text('[[known]]\nid = "T13.2"\nreason = "not wired yet"\n', encoding="utf-8")
    assert read_known_failures(path) == {"T13.2": "not wired yet"}
    monkeypatch.setenv("ESPER_CONFORMANCE_TARGET", str(tmp_path))
    monkeypatch.delenv("ESPER_CONFORMANCE_KNOWN_FAILURES", raising=False)
    target = describe()
    assert target.known == {"T13.2": "not wired yet"} and target.known_file == path
    assert "1 requirement(s)" in target.header()
    for bad, message in (('[[known]]\nid = "T13.2"\n', "needs string keys"), ('known = 3\n', "array of tables"),
                         ('[[known]]\nid = "T1"\nreason = " "\n', "non-empty reason"), ("[[known", "known-failures")):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(TargetError, match=message):
            read_known_failures(path)


@pytest.mark.req("DEC.conformance.2", "ISSUE.11.3")
def test_reference_adapter_satisfies_the_protocol() -> None:
    assert isinstance(ADAPTER, ConformanceAdapter)
    assert load_adapter("conformance.adapters.reference:ADAPTER") is ADAPTER
    with pytest.raises(ValueError, match="module:object"):
        load_adapter("conformance.adapters.reference")
    with pytest.raises(ValueError, match="no attribute 'NOPE'"):
        load_adapter("conformance.adapters.reference:NOPE")
    with pytest.raises(TypeError, match="does not satisfy ConformanceAdapter; missing: "):
        load_adapter("conformance.target:KIT_ROOT")
    assert isinstance(ReferenceAdapter(), ConformanceAdapter)


@pytest.mark.req("ISSUE.11.5", "DEC.conformance.5")
def test_action_masks_come_from_the_per_head_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each head's row of compute_action_masks/compute_batch_masks is the per-head function's output."""
    states: list[SeedStateReport | None] = [None, None, None]
    seen: list[str] = []
    for head in ("slot", "blueprint", "blend", "tempo", "op"):
        original: Callable[..., torch.Tensor] = getattr(am, f"compute_{head}_mask")

        def spy(
            *args: object, _original: Callable[..., torch.Tensor] = original, _head: str = head, **kwargs: object
        ) -> torch.Tensor:
            seen.append(_head)
            return _original(*args, **kwargs)

        monkeypatch.setattr(am, f"compute_{head}_mask", spy)
    am.compute_action_masks(states)
    assert seen == ["slot", "blueprint", "blend", "tempo", "op"]
    seen.clear()
    am.compute_batch_masks([states, states])
    assert seen == ["slot", "blueprint", "blend", "tempo", "op"] * 2
    assert am.compute_blueprint_mask([None], "transformer").tolist() == am.compute_blueprint_mask(topology="transformer").tolist()


@pytest.mark.req("DEC.conformance.4")
def test_evaluate_actions_order_is_the_plans() -> None:
    from conformance.simic_agent.test_plan_task08 import _log_probs_entropies_value

    lp, ent, value = {"tempo": torch.zeros(1)}, {"tempo": torch.ones(1)}, torch.full((1,), 2.0)
    assert _log_probs_entropies_value((lp, ent, value)) == (lp, ent, value)  # the plan's Task 8.5 order
    assert _log_probs_entropies_value((lp, ent, value, None)) == (lp, ent, value)  # extra fields are allowed
    with pytest.raises(AssertionError, match=r"\[1\] must be the entropy dict"):
        _log_probs_entropies_value((lp, value, ent))  # the order this package used before issue 14


class _TwiceTempo(ReferenceAdapter):
    """An implementation that encodes the tempo in two features (the kit must reject it)."""

    def observation(self, slots: Sequence[SeedSlot | None]) -> torch.Tensor:
        obs = super().observation(slots)
        for i, slot in enumerate(slots):
            if slot is not None and slot.state is not None:
                obs[23 + 18 * i + 5] = slot.state.blend_tempo_epochs / 100.0
        return obs


@pytest.mark.req("DEC.conformance.6")
def test_the_tempo_feature_is_found_by_difference() -> None:
    from conformance.tamiyo.test_plan_task13 import _tempo_index

    index = _tempo_index(ADAPTER, 2)
    assert 23 + 2 * 18 <= index < 23 + 3 * 18
    with pytest.raises(AssertionError, match="must change exactly one feature"):
        _tempo_index(_TwiceTempo(), 1)


@pytest.mark.req("ISSUE.11.6")
def test_compile_suite_covers_every_entry_point_and_its_checker_catches_breaks() -> None:
    """conformance/compile holds the policy, host and slot tests, recompile counts, inductor and the negative
    control; the checker counts graphs and turns a graph break into GraphBreakError."""
    from conformance.compile import checker
    from conformance.report import collect_static

    mapping = collect_static(["conformance/compile"])
    names = {t["nodeid"].split("::")[1].split("[")[0] for t in mapping["CHK.15.2"]}
    assert names >= {
        "test_forward_is_one_graph_and_matches_eager",
        "test_get_action_does_not_recompile_across_episodes",
        "test_evaluate_actions_is_one_graph_and_does_not_recompile",
        "test_inductor_compiles_the_policy_forward",
        "test_checker_catches_a_planted_graph_break",
        "test_slot_forward_is_one_graph_in_every_stage",
        "test_alpha_ramp_steps_do_not_recompile",
        "test_host_forward_does_not_recompile_across_episodes",
    }
    checker.reset()
    counter = checker.GraphCounter()
    double = checker.compile_fullgraph(lambda x: x * 2, counter)
    for n in (1.0, 2.0, 3.0):
        assert torch.equal(double(torch.full((2,), n)), torch.full((2,), 2 * n))
    assert counter.graphs == 1

    eager_only = getattr(torch.compiler, "disable")(lambda x: x + 1)  # dynamo cannot trace into it

    def breaks(x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = eager_only(x) * 2
        return out

    with pytest.raises(checker.GraphBreakError, match="graph break in"):
        checker.compile_fullgraph(breaks, checker.GraphCounter())(torch.ones(2))
    checker.reset()
