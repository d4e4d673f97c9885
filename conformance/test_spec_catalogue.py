"""Meta-tests over the whole requirement catalogue and every conformance test (generic across areas)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conformance.spec_catalogue import (
    ID_PATTERN,
    REPO_ROOT,
    STATUSES,
    Catalogue,
    decision_ids_missing_from_notes,
    load_catalogue,
)


@pytest.fixture(scope="module")
def conformance_mapping(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    """``{requirement_id: [tests]}`` over conformance/ and tests/, by collecting (not running) them in a fresh process."""
    out = tmp_path_factory.mktemp("spec") / "mapping.json"
    cmd = [sys.executable, "-m", "conformance.report", "--paths", "conformance,tests", "--json", str(out)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"static collection of conformance/ failed:\n{proc.stderr[-6000:]}"
    mapping: dict[str, list[dict[str, str]]] = json.loads(out.read_text())
    return mapping


def test_catalogue_loads_and_is_valid(catalogue: Catalogue) -> None:
    assert len(catalogue) > 0
    assert catalogue == load_catalogue()  # loading is deterministic
    files = sorted((REPO_ROOT / "spec" / "requirements").glob("*.toml"))
    assert sorted(catalogue.areas) == sorted(p.stem for p in files)
    for rid, req in catalogue.items():
        assert req.id == rid and ID_PATTERN.match(rid), rid
        assert req.status in STATUSES, rid
        assert req.title and req.text and req.source, rid


def test_decisions_are_written_down(catalogue: Catalogue) -> None:
    """Every DEC.<area>.<k> requirement is explained in spec/decisions/<area>.md."""
    missing = decision_ids_missing_from_notes(catalogue)
    assert not missing, "decisions not written down:\n  " + "\n  ".join(missing)


def test_every_tag_in_conformance_is_known(
    catalogue: Catalogue, conformance_mapping: dict[str, list[dict[str, str]]]
) -> None:
    unknown = {rid: [t["nodeid"] for t in tests] for rid, tests in conformance_mapping.items() if rid not in catalogue}
    assert not unknown, f"tags naming no requirement: {unknown}"


def test_every_implemented_requirement_has_a_tagged_test(
    catalogue: Catalogue, conformance_mapping: dict[str, list[dict[str, str]]]
) -> None:
    """Plan requirements are proven in conformance/; requirements about this reference implementation (issues,
    decisions) may be proven by tagged unit tests in tests/."""
    uncovered = [
        f"{rid} ({req.area}: {req.title})"
        for rid, req in catalogue.items()
        if req.implemented
        and not any(t["nodeid"].startswith(("conformance/", "tests/")) for t in conformance_mapping.get(rid, []))
    ]
    assert not uncovered, "implemented requirements without a tagged test:\n  " + "\n  ".join(uncovered)


def test_conformance_areas_have_init_files() -> None:
    """Test basenames repeat across areas, so every test directory must be a package."""
    for root in ("conformance", "tests"):
        for path in (REPO_ROOT / root).rglob("test_*.py"):
            for parent in path.relative_to(REPO_ROOT).parents:
                if str(parent) != ".":
                    assert (REPO_ROOT / parent / "__init__.py").is_file(), f"{parent}/__init__.py missing"
