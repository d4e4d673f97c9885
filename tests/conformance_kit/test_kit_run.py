"""The kit run end to end against a broken copy of this package: a missing plan name, a known failure, a pass."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.target import KIT_ROOT


@pytest.mark.req("ISSUE.11.1", "ISSUE.11.2", "ISSUE.11.4", "DEC.conformance.9")
def test_kit_reports_missing_names_and_known_failures(tmp_path: Path) -> None:
    target = tmp_path / "impl"
    shutil.copytree(KIT_ROOT / "esper", target / "esper", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(KIT_ROOT / "pyproject.toml", target / "pyproject.toml")
    masks = target / "esper" / "tamiyo" / "policy" / "action_masks.py"
    masks.write_text(masks.read_text().replace("compute_tempo_mask", "compute_tempo_row"))  # a missing plan name
    actions = target / "esper" / "leyline" / "factored_actions.py"
    actions.write_text(actions.read_text().replace("    TempoAction.SLOW: 8,", "    TempoAction.SLOW: 5,"))
    (target / "conformance-known-failures.toml").write_text('[[known]]\nid = "T02.2"\nreason = "SLOW is 5 here"\n')

    cmd = [sys.executable, "-m", "conformance.kit", "--target", str(target), "--only", "T04.1,T02.2,T13.3"]
    proc = subprocess.run(cmd, cwd=KIT_ROOT, capture_output=True, text=True, timeout=600)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert f"conformance target: {target}" in out
    assert "version: 0.1.0, git revision: none (not a git checkout)" in out
    assert f"known failures: {target / 'conformance-known-failures.toml'} (1 requirement(s))" in out
    lines = out.splitlines()
    t041 = next(i for i, line in enumerate(lines) if line.startswith("T04.1 "))
    assert "FAILED" in lines[t041]
    assert "plan name missing from the target" in lines[t041 + 1] and "compute_tempo_mask" in lines[t041 + 1]
    assert any(line.startswith("T02.2 ") and " known " in line for line in lines)
    assert any("SLOW is 5 here" in line for line in lines)
    assert any(line.startswith("T13.3 ") and " ok " in line for line in lines)
    assert "failing requirements: T04.1" in out
