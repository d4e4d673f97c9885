"""Tests of the spec harness itself: catalogue validation, the pytest plugin (also under xdist), the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance import report
from conformance.plugin import read_results
from conformance.spec_catalogue import REPO_ROOT, CatalogueError, load_catalogue, sort_ids

VALID = """
[[requirement]]
id = "{rid}"
source = "plan Task 1"
title = "t"
text = "x"
status = "{status}"
"""


def _write(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


# --- catalogue validation -------------------------------------------------------------------------------------------


def test_catalogue_accepts_valid_files_in_natural_order(tmp_path: Path) -> None:
    _write(tmp_path, "a.toml", VALID.format(rid="T01.10", status="implemented") + VALID.format(rid="T01.2", status="planned"))
    _write(tmp_path, "b.toml", VALID.format(rid="CHK.01.1", status="planned") + VALID.format(rid="DEC.b.1", status="planned"))
    cat = load_catalogue(tmp_path)
    assert list(cat) == ["T01.2", "T01.10", "CHK.01.1", "DEC.b.1"]
    assert cat["T01.10"].implemented and not cat["T01.2"].implemented
    assert cat["DEC.b.1"].area == "b"
    assert cat.select(areas=["a"]) == ["T01.2", "T01.10"]
    assert cat.select(prefixes=["T01.1"]) == []  # prefixes match whole ID components
    assert cat.select(prefixes=["T01", "DEC.b"]) == ["T01.2", "T01.10", "DEC.b.1"]
    with pytest.raises(ValueError, match="unknown areas"):
        cat.select(areas=["zzz"])


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (VALID.format(rid="T1.1", status="implemented"), "does not follow the ID scheme"),
        (VALID.format(rid="T01.1", status="done"), "status 'done' is invalid"),
        (VALID.format(rid="T01.1", status="planned").replace('title = "t"\n', ""), "missing keys ['title']"),
        (VALID.format(rid="T01.1", status="planned") + 'stauts = "x"\n', "unknown keys ['stauts']"),
        (VALID.format(rid="T01.1", status="planned").replace('text = "x"', "text = 3"), "'text' must be a non-empty"),
        (VALID.format(rid="T01.1", status="planned") + VALID.format(rid="T01.1", status="planned"), "defined twice"),
        ('[meta]\nx = 1\n', "unexpected top-level keys"),
        ("[[requirement\n", "invalid TOML"),
    ],
)
def test_catalogue_errors_name_file_and_id(tmp_path: Path, body: str, fragment: str) -> None:
    _write(tmp_path, "area.toml", body)
    with pytest.raises(CatalogueError) as err:
        load_catalogue(tmp_path)
    message = str(err.value)
    assert fragment in message
    assert "area.toml" in message
    if "T01.1" in body and "invalid TOML" not in fragment:
        assert "T01.1" in message


def test_duplicate_across_files_names_both(tmp_path: Path) -> None:
    _write(tmp_path, "a.toml", VALID.format(rid="SYS.2.1", status="planned"))
    _write(tmp_path, "b.toml", VALID.format(rid="SYS.2.1", status="planned"))
    with pytest.raises(CatalogueError, match=r"'SYS.2.1' is defined twice: in .*a\.toml and in .*b\.toml"):
        load_catalogue(tmp_path)


def test_sort_ids_is_natural() -> None:
    ids = ["DEC.x.2", "SYS.3.4", "T11.3.2", "CHK.02.1", "T02.10", "T02.9", "PLAN.1", "T11.3.10", "DEC.x.10"]
    assert sort_ids(ids) == ["T02.9", "T02.10", "T11.3.2", "T11.3.10", "CHK.02.1", "SYS.3.4", "PLAN.1", "DEC.x.2", "DEC.x.10"]


# --- the pytest plugin, in a fresh pytest process ----------------------------------------------------------------

SAMPLE_TESTS = """
import pytest

@pytest.mark.req("T01.1")
def test_pass():
    pass

@pytest.mark.req("T01.1", "T02.1")
def test_fail():
    assert False

@pytest.mark.req("T02.1")
def test_skip():
    pytest.skip("not here")

@pytest.mark.req("T02.2")
@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    assert x

class TestGroup:
    pytestmark = pytest.mark.req("T02.3")

    def test_method(self):
        pass

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown")

@pytest.mark.req("T02.4")
def test_teardown_error(broken_teardown):
    pass

def test_untagged():
    pass
"""

EXPECTED_RESULTS = {
    "T01.1": [
        {"nodeid": "test_sample.py::test_fail", "outcome": "failed", "message": "assert False"},
        {"nodeid": "test_sample.py::test_pass", "outcome": "passed"},
    ],
    "T02.1": [
        {"nodeid": "test_sample.py::test_fail", "outcome": "failed", "message": "assert False"},
        {"nodeid": "test_sample.py::test_skip", "outcome": "skipped"},
    ],
    "T02.2": [
        {"nodeid": "test_sample.py::test_param[1]", "outcome": "passed"},
        {"nodeid": "test_sample.py::test_param[2]", "outcome": "passed"},
    ],
    "T02.3": [{"nodeid": "test_sample.py::TestGroup::test_method", "outcome": "passed"}],
    "T02.4": [
        {"nodeid": "test_sample.py::test_teardown_error", "outcome": "failed", "message": "RuntimeError: teardown"}
    ],
}


def _run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    _write(directory, "pytest.ini", "[pytest]\nmarkers =\n    req(*ids): requirement IDs\n")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-p", "conformance.plugin", "-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(cmd, cwd=directory, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_plugin_writes_spec_results(tmp_path: Path, workers: list[str]) -> None:
    _write(tmp_path, "test_sample.py", SAMPLE_TESTS)
    out = tmp_path / "results" / "spec.json"
    proc = _run_pytest(tmp_path, *workers, "--spec-results", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr  # test_fail and the teardown error fail
    assert read_results(out) == EXPECTED_RESULTS
    assert "spec results: 7 tagged tests" in proc.stdout


def test_plugin_rejects_bad_tags_at_collection(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "test_bad.py",
        """
        import pytest

        @pytest.mark.req("T01.1", "T99.9")
        def test_claims_missing_requirement():
            pass

        @pytest.mark.req()
        def test_empty_marker():
            pass

        @pytest.mark.req("T01.1")
        def test_fine():
            pass
        """,
    )
    proc = _run_pytest(tmp_path, "--spec-results", str(tmp_path / "r.json"))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output  # interrupted by a collection error
    assert "ERROR collecting test_bad.py" in output
    assert "test_bad.py::test_claims_missing_requirement: unknown requirement ID 'T99.9'" in output
    assert "test_bad.py::test_empty_marker: req marker needs at least one requirement ID" in output
    assert "test_fine" not in output
    assert " passed" not in output


# --- the report --------------------------------------------------------------------------------------------------


def _results(tmp_path: Path, mapping: dict[str, list[dict[str, str]]]) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")
    return path


def test_report_strict_passes_on_passing_tests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _results(tmp_path, {"T01.1": [{"nodeid": "a.py::t", "outcome": "passed"}]})
    md = tmp_path / "report.md"
    assert report.main(["--results", str(path), "--only-prefix", "T01.1", "--strict", "--markdown", str(md)]) == 0
    out = capsys.readouterr().out
    assert "T01.1" in out and "passed: a.py::t" in out and "strict: ok" in out
    assert "| T01.1 | implemented | ok |" in md.read_text()


@pytest.mark.parametrize(
    ("mapping", "reason"),
    [
        ({"T01.1": [{"nodeid": "a.py::t", "outcome": "failed"}]}, "failing tests"),
        ({"T01.1": [{"nodeid": "a.py::t", "outcome": "skipped"}]}, "implemented but skipped-only"),
        ({}, "implemented but uncovered"),
        ({"T01.1": [{"nodeid": "a.py::t", "outcome": "passed"}], "T77.7": []}, "'T77.7'"),
    ],
)
def test_report_strict_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mapping: dict[str, list[dict[str, str]]], reason: str
) -> None:
    path = _results(tmp_path, mapping)
    assert report.main(["--results", str(path), "--only-prefix", "T01.1", "--strict"]) == 1
    assert reason in capsys.readouterr().err
    assert report.main(["--results", str(path), "--only-prefix", "T01.1"]) == 0  # without --strict: just a report


def test_report_rejects_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report.main(["--results", str(tmp_path / "missing.json")]) == 2
    bad = _results(tmp_path, {"T01.1": [{"nodeid": "a", "outcome": "maybe"}]})
    assert report.main(["--results", str(bad)]) == 2
    assert report.main(["--results", str(_results(tmp_path, {})), "--area", "no_such_area"]) == 2
    assert "unknown areas" in capsys.readouterr().err


def test_grouped_tests_folds_parametrized_cases() -> None:
    tests = [
        {"nodeid": "m.py::t[1]", "outcome": "passed"},
        {"nodeid": "m.py::t[2]", "outcome": "failed"},
        {"nodeid": "m.py::u", "outcome": "skipped"},
    ]
    assert report.grouped_tests(tests, static=False) == [("m.py::t[2 cases]", "1 failed, 1 passed"), ("m.py::u", "skipped")]
    assert report.grouped_tests(tests, static=True) == [("m.py::t[2 cases]", ""), ("m.py::u", "")]
