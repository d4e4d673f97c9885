"""Requirement coverage report: ``python -m conformance.report [--results PATH] [--strict] [--markdown OUT]``.

With ``--results`` (written by ``pytest --spec-results PATH``) it shows every requirement with its tests and their
outcomes. Without it, it collects the tests in-process (``pytest --collect-only`` over ``conformance/`` and
``tests/``) and shows which tests are tagged with which requirement, without outcomes.

``--strict`` exits 1 when an ``implemented`` requirement has no passing (static mode: no tagged) test, or when a
tagged test failed. ``--area``/``--only-prefix`` restrict the report (and ``--strict``) to some requirements.
Exit status 2: the catalogue, the results file or the test collection is broken.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.plugin import read_results, requirement_ids
from conformance.spec_catalogue import REPO_ROOT, Catalogue, CatalogueError, load_catalogue, sort_ids

STATIC_OUTCOME = "collected"
DEFAULT_PATHS: tuple[str, ...] = ("conformance", "tests")

Mapping = dict[str, list[dict[str, str]]]
"""``{requirement_id: [{"nodeid": ..., "outcome": ...}]}``."""


class ReportError(RuntimeError):
    """The inputs of the report are unusable (exit status 2)."""


@dataclass(eq=False)  # pluggy keeps plugins in sets: identity hash
class _StaticCollector:
    """pytest plugin object recording collected items' requirement IDs and collection errors."""

    mapping: Mapping = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext}".strip())

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            for rid in requirement_ids(item):
                self.mapping.setdefault(rid, []).append({"nodeid": item.nodeid, "outcome": STATIC_OUTCOME})


def collect_static(paths: Sequence[str] = DEFAULT_PATHS) -> Mapping:
    """Collect (not run) the tests under ``paths`` in-process and map requirement IDs to tagged tests."""
    existing = [p for p in paths if (REPO_ROOT / p).exists()]
    if not existing:
        raise ReportError(f"none of the test paths exist: {list(paths)}")
    collector = _StaticCollector()
    output = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(REPO_ROOT)
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            args = ["--collect-only", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", *existing]
            code = pytest.main(args, plugins=[collector])
    finally:
        os.chdir(cwd)
    if collector.errors or code not in (0, 5):
        details = "\n".join(collector.errors) or output.getvalue()[-4000:]
        raise ReportError(f"test collection failed (pytest exit {int(code)}):\n{details}")
    return {rid: collector.mapping[rid] for rid in sort_ids(collector.mapping)}


def load_results(path: Path) -> Mapping:
    if not path.is_file():
        raise ReportError(f"results file {path} does not exist (run pytest with --spec-results {path})")
    try:
        return read_results(path)
    except (ValueError, json.JSONDecodeError) as exc:
        raise ReportError(str(exc)) from None


@dataclass(frozen=True)
class Row:
    rid: str
    title: str
    status: str
    tests: list[dict[str, str]]
    verdict: str
    """ok | FAILED | known | uncovered | skipped-only | tagged (static)."""


def _verdict(tests: list[dict[str, str]], static: bool) -> str:
    outcomes = {t["outcome"] for t in tests}
    if not tests:
        return "uncovered"
    if static:
        return "tagged"
    if "failed" in outcomes:
        return "FAILED"
    if "known" in outcomes:
        return "known"  # listed in the target's known failures: never a pass
    if "passed" in outcomes:
        return "ok"
    return "skipped-only"


def build_rows(catalogue: Catalogue, mapping: Mapping, selected: Sequence[str], static: bool) -> list[Row]:
    return [
        Row(rid, catalogue[rid].title, catalogue[rid].status, mapping.get(rid, []), _verdict(mapping.get(rid, []), static))
        for rid in selected
    ]


def strict_failures(rows: Sequence[Row], unknown: Sequence[str]) -> list[str]:
    """Reasons why ``--strict`` fails (empty list: it passes)."""
    problems = [f"{rid}: tagged in tests but not in the catalogue" for rid in unknown]
    for row in rows:
        failed = [t["nodeid"] for t in row.tests if t["outcome"] == "failed"]
        if failed:
            problems.append(f"{row.rid}: failing tests {failed}")
        if row.status == "implemented" and row.verdict not in ("ok", "tagged", "FAILED"):
            problems.append(f"{row.rid}: implemented but {row.verdict} (no passing test)")
    return problems


def summary(rows: Sequence[Row]) -> dict[str, int]:
    implemented = [r for r in rows if r.status == "implemented"]
    return {
        "requirements": len(rows),
        "implemented": len(implemented),
        "planned": len(rows) - len(implemented),
        "covered": sum(r.verdict in ("ok", "tagged") for r in implemented),
        "uncovered": sum(r.verdict not in ("ok", "tagged", "FAILED") for r in implemented),
        "failed": sum(r.verdict == "FAILED" for r in rows),
        "planned_with_tests": sum(bool(r.tests) for r in rows if r.status == "planned"),
    }


def grouped_tests(tests: Sequence[dict[str, str]], static: bool) -> list[tuple[str, str]]:
    """(test, outcome text) with parametrized variants folded: ``test_x[3 cases]``, ``"2 passed, 1 failed"``."""
    groups: dict[str, list[str]] = {}
    parametrized: set[str] = set()
    for test in tests:
        base, bracket, _ = test["nodeid"].partition("[")
        groups.setdefault(base, []).append(test["outcome"])
        if bracket:
            parametrized.add(base)
    out: list[tuple[str, str]] = []
    for base, outcomes in groups.items():
        name = f"{base}[{len(outcomes)} cases]" if base in parametrized else base
        counts = [(o, outcomes.count(o)) for o in ("failed", "known", "passed", "skipped") if o in outcomes]
        text = ", ".join(f"{n} {o}" if base in parametrized else o for o, n in counts)
        out.append((name, "" if static else text))
    return out


def render_text(rows: Sequence[Row], static: bool) -> str:
    lines = []
    width = max((len(r.rid) for r in rows), default=8)
    for row in rows:
        lines.append(f"{row.rid:<{width}}  {row.status:<11}  {row.verdict:<12}  {row.title}")
        for name, outcome in grouped_tests(row.tests, static):
            lines.append(f"{'':<{width}}    {outcome + ': ' if outcome else ''}{name}")
    counts = summary(rows)
    lines.append("")
    lines.append("summary: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if static:
        lines.append("(static collection: tests are tagged, not run; pass --results for outcomes)")
    return "\n".join(lines)


def render_markdown(rows: Sequence[Row], static: bool) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    out = ["# Requirement coverage", "", "| ID | status | verdict | title | tests |", "|---|---|---|---|---|"]
    for row in rows:
        tests = "<br>".join(
            f"`{cell(name)}`" + (f" ({outcome})" if outcome else "") for name, outcome in grouped_tests(row.tests, static)
        )
        out.append(f"| {row.rid} | {row.status} | {row.verdict} | {cell(row.title)} | {tests or '-'} |")
    out += ["", "**Summary:** " + ", ".join(f"{k} {v}" for k, v in summary(rows).items()), ""]
    return "\n".join(out)


def _split(values: Sequence[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.report", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="JSON written by pytest --spec-results (else: collect statically)")
    parser.add_argument("--strict", action="store_true", help="exit 1 on uncovered implemented IDs or failed tests")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="also write the report as Markdown")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the ID -> tests mapping as JSON")
    parser.add_argument("--area", action="append", help="only requirements from spec/requirements/<AREA>.toml")
    parser.add_argument("--only-prefix", action="append", help="only IDs with these prefixes, e.g. T01,CHK.01,SYS.2")
    parser.add_argument(
        "--paths", action="append", help=f"test paths for static collection (default: {' '.join(DEFAULT_PATHS)})"
    )
    args = parser.parse_args(argv)

    try:
        catalogue = load_catalogue()
        selected = catalogue.select(_split(args.area), _split(args.only_prefix))
        static = args.results is None
        mapping = collect_static(_split(args.paths) or DEFAULT_PATHS) if static else load_results(args.results)
    except (CatalogueError, ReportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not selected:
        print("error: the selection matches no requirement", file=sys.stderr)
        return 2

    unknown = [rid for rid in mapping if rid not in catalogue]
    rows = build_rows(catalogue, mapping, selected, static)
    print(render_text(rows, static))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(render_markdown(rows, static), encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(mapping, indent=1) + "\n", encoding="utf-8")
    if unknown:
        print(f"\nwarning: tests are tagged with IDs missing from the catalogue: {unknown}", file=sys.stderr)
    if args.strict:
        problems = strict_failures(rows, unknown)
        if problems:
            print("\nstrict: FAILED\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        print("\nstrict: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
