"""Static rules of the conformance kit (issue 11): what it proves, which names it may use, its mutants, its gate."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import settings

from conformance.kit import KIT_DIRS, PLAN_PREFIXES
from conformance.mutation.mutants import MUTANTS
from conformance.report import collect_static
from conformance.spec_catalogue import REPO_ROOT, Catalogue, load_catalogue

#: The plan's verbatim snippets: module-level imports kept as the plan writes them.
VERBATIM = {
    "conformance/leyline/test_plan_task01.py",
    "conformance/leyline/test_plan_task03.py",
    "conformance/leyline/test_plan_task14.py",
    "conformance/kasmina/test_tempo_lever.py",
}
#: Plan-named modules (plan Tasks 1-15 file paths, minus ``src/``) and the names the plan gives them.
PLAN_MODULES: dict[str, set[str] | None] = {
    "esper.leyline": {"HEAD_NAMES", "SeedStateReport", "TempoAction", "TEMPO_TO_EPOCHS", "NUM_TEMPO"},
    "esper.leyline.factored_actions": {
        "FactoredAction", "BlueprintAction", "BlendAction", "TempoAction", "LifecycleOp", "NUM_BLUEPRINTS",
        "NUM_TEMPO", "TEMPO_TO_EPOCHS",
    },
    "esper.leyline.telemetry": {"SeedTelemetry"},
    "esper.kasmina.slot": {"SeedSlot", "SeedStage", "SeedState"},
    "esper.kasmina.host": {"Host"},
    "esper.tamiyo.policy": {"action_masks"},
    "esper.tamiyo.policy.action_masks": {
        "compute_slot_mask", "compute_blueprint_mask", "compute_blend_mask", "compute_tempo_mask",
        "compute_op_mask", "compute_action_masks", "compute_batch_masks",
    },
    "esper.tamiyo.policy.features": {"SLOT_FEATURE_SIZE", "get_feature_size"},
    "esper.simic.agent.network": {"FactoredRecurrentActorCritic", "_ForwardOutput"},
    "esper.simic.agent.rollout_buffer": {"TamiyoRolloutBuffer"},
    "esper.simic.agent.ppo": {"PPOAgent"},
    "esper.simic.agent.advantages": {"compute_per_head_advantages"},
}


def _kit_files() -> list[Path]:
    files = [p for d in KIT_DIRS for p in sorted((REPO_ROOT / d).rglob("*.py"))]
    return files + [REPO_ROOT / "conformance" / "plan_steps.py", REPO_ROOT / "conformance" / "adapter.py"]


def _esper_imports(tree: ast.Module) -> list[tuple[int, str, list[str], bool]]:
    """(line, module, names, at module level outside TYPE_CHECKING) of every ``esper`` import."""
    out: list[tuple[int, str, list[str], bool]] = []
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded |= {id(child) for child in ast.walk(node)}
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("esper"):
            out.append((node.lineno, node.module or "", [a.name for a in node.names], id(node) in top and id(node) not in guarded))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("esper"):
                    out.append((node.lineno, alias.name, [], id(node) in top and id(node) not in guarded))
    return out


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.mark.req("DEC.conformance.1")
def test_the_kit_proves_every_plan_requirement_and_only_plan_requirements(catalogue: Catalogue) -> None:
    mapping = collect_static(KIT_DIRS)
    missing = [rid for rid, r in catalogue.items() if r.implemented and rid.startswith(PLAN_PREFIXES) and rid not in mapping]
    assert not missing, f"plan requirements without a kit test: {missing}"
    foreign = sorted(rid for rid in mapping if not rid.startswith((*PLAN_PREFIXES, "PLAN.")))
    assert not foreign, f"the kit must prove plan requirements only; it tags {foreign}"


@pytest.mark.req("ISSUE.11.3", "DEC.conformance.3")
def test_kit_files_use_plan_names_only() -> None:
    problems: list[str] = []
    for path in _kit_files():
        rel = path.relative_to(REPO_ROOT).as_posix()
        for line, module, names, top_level in _esper_imports(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{rel}:{line}"
            if top_level and rel not in VERBATIM:
                problems.append(f"{where}: module-level import of {module} (import plan names inside the test)")
            if module not in PLAN_MODULES:
                problems.append(f"{where}: {module} is not a module the plan names")
                continue
            allowed = PLAN_MODULES[module] or set()
            problems += [f"{where}: {module}.{n} is not a plan name" for n in names if n not in allowed]
        for match in re.finditer(r'import_module\("(esper[\w.]*)"\)', path.read_text(encoding="utf-8")):
            if match.group(1) not in PLAN_MODULES:
                problems.append(f"{rel}: import_module({match.group(1)!r}) is not a plan module")
    assert not problems, "\n".join(problems)


@pytest.mark.req("ISSUE.11.7", "DEC.conformance.8")
def test_mutants_are_many_named_by_requirements_and_apply_to_this_package(catalogue: Catalogue) -> None:
    assert len(MUTANTS) >= 15
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    mapping = collect_static(KIT_DIRS)
    for mutant in MUTANTS:
        assert mutant.requirement in catalogue and catalogue[mutant.requirement].implemented, mutant.name
        assert mutant.requirement in mapping, f"{mutant.name}: no kit test for {mutant.requirement}"
        text = (REPO_ROOT / mutant.path).read_text(encoding="utf-8")
        assert text.count(mutant.old) == 1, f"mutant {mutant.name} is stale: its snippet is not in {mutant.path} once"
        assert mutant.old != mutant.new
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^mutation:.*\n\t.*conformance\.mutation\.run", makefile, re.M)
    assert "mutation" not in (REPO_ROOT / "scripts" / "check.sh").read_text(encoding="utf-8")


@pytest.mark.req("ISSUE.11.8")
def test_mypy_strict_conformance_is_gated_and_only_verbatim_files_are_exempt() -> None:
    check = (REPO_ROOT / "scripts" / "check.sh").read_text(encoding="utf-8")
    assert re.search(r"mypy --strict .*conformance", check)
    overrides = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]["overrides"]
    exempt = [o for o in overrides if any(str(m).startswith("conformance") for m in o["module"])]
    assert len(exempt) == 1
    assert {m.replace(".", "/") + ".py" for m in exempt[0]["module"]} == VERBATIM | {"conformance/leyline/test_plan_task02.py"}
    assert set(exempt[0]) == {"module", "disallow_untyped_defs", "disallow_incomplete_defs"}


@pytest.mark.req("ISSUE.11.9")
def test_hypothesis_profiles_ci_and_thorough_are_registered_and_documented() -> None:
    ci, thorough = settings.get_profile("ci"), settings.get_profile("thorough")
    assert ci.derandomize and ci.max_examples == 50
    assert thorough.max_examples > ci.max_examples and thorough.deadline is None
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "HYPOTHESIS_PROFILE=thorough" in readme and "`ci`" in readme


@pytest.mark.req("DEC.conformance.7")
def test_inductor_test_is_slow_and_the_gate_skips_slow_tests() -> None:
    source = (REPO_ROOT / "conformance" / "compile" / "test_policy_compile.py").read_text(encoding="utf-8")
    assert re.search(r"@pytest\.mark\.slow.*\n@pytest\.mark\.req\(\"CHK\.15\.2\"\)\ndef test_inductor", source)
    assert '-m "not slow"' in (REPO_ROOT / "scripts" / "check.sh").read_text(encoding="utf-8")
