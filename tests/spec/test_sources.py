"""spec/ cites the plan and the design note portably: by title, with verbatim copies in spec/sources/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = {"plan/blend-tempo-lever-plan.md": "blend-tempo-lever-plan.md", "design/system.md": "system.md"}


def _shared_dirs() -> list[Path]:
    """Where shared/ may live: $ESPER_SHARED_DIR, beside the repository, or inside it."""
    candidates = [REPO.parent / "shared", REPO / "shared"]
    if os.environ.get("ESPER_SHARED_DIR"):
        candidates.insert(0, Path(os.environ["ESPER_SHARED_DIR"]))
    return [d for d in candidates if (d / "plan").is_dir()]


@pytest.mark.req("ISSUE.14.14")
def test_spec_cites_the_sources_by_title_and_ships_them() -> None:
    readme = (REPO / "spec" / "README.md").read_text(encoding="utf-8")
    plan = (REPO / "spec" / "sources" / "blend-tempo-lever-plan.md").read_text(encoding="utf-8")
    design = (REPO / "spec" / "sources" / "system.md").read_text(encoding="utf-8")
    assert plan.startswith("# Implementation Plan: Blend Tempo Lever") and "### 8.5 Update evaluate_actions()" in plan
    assert design.startswith("# Esper system design")
    assert "*Implementation Plan: Blend Tempo Lever*" in readme and "`sources/blend-tempo-lever-plan.md`" in readme
    machine_paths = []
    for path in [*(REPO / "spec").rglob("*.md"), *(REPO / "spec").rglob("*.toml")]:
        if path.parent.name == "sources":
            continue
        machine_paths += [f"{path.relative_to(REPO)}: {m}" for m in re.findall(r"/work/\S+", path.read_text("utf-8"))]
    assert machine_paths == []
    for shared in _shared_dirs():  # where the originals exist, the copies must be verbatim
        for original, copy in SOURCES.items():
            assert (shared / original).read_bytes() == (REPO / "spec" / "sources" / copy).read_bytes(), original
