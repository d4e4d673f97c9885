"""Pytest plugin linking tests to requirements.

* Validates every ``@pytest.mark.req("ID", ...)`` at collection: an unknown or malformed ID is a collection
  error that names the test and the ID.
* Attaches the IDs to the test's ``user_properties`` so that they travel with its reports (also across
  pytest-xdist workers).
* ``--spec-results PATH`` writes ``{requirement_id: [{"nodeid": ..., "outcome": "passed|failed|skipped"}]}``
  for every tagged test that ran; the controller process writes it once at the end of the session.

Registered from the root ``conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path

import pytest

from conformance.spec_catalogue import Catalogue, CatalogueError, load_catalogue, sort_ids

#: Key of the ``user_properties`` entry carrying a test's requirement IDs (comma-separated).
REQ_PROPERTY = "spec_req"
OUTCOMES: tuple[str, ...] = ("passed", "failed", "skipped", "known")
"""``known``: the test is tagged with a requirement listed in the target's known failures (run as ``xfail``)."""
_SEVERITY = {"passed": 0, "skipped": 1, "known": 2, "failed": 3}

_catalogue_cache: dict[str, Catalogue | CatalogueError] = {}


def _catalogue_or_error() -> Catalogue | CatalogueError:
    """The catalogue, loaded once per process (a broken catalogue fails every module with tagged tests)."""
    if "cat" not in _catalogue_cache:
        try:
            _catalogue_cache["cat"] = load_catalogue()
        except CatalogueError as exc:
            _catalogue_cache["cat"] = exc
    return _catalogue_cache["cat"]


def requirement_ids(item: pytest.Item) -> list[str]:
    """Requirement IDs of ``item`` (from its ``req`` markers, including module/class ``pytestmark``)."""
    for key, value in item.user_properties:
        if key == REQ_PROPERTY and isinstance(value, str):
            return value.split(",")
    return []


def _problems(item: pytest.Item, catalogue: Catalogue | CatalogueError | None) -> tuple[list[str], list[str]]:
    """(requirement IDs, problems) of one item's ``req`` markers."""
    ids: list[str] = []
    problems: list[str] = []
    for mark in item.iter_markers("req"):
        if mark.kwargs:
            problems.append(f"req marker takes only positional IDs, got keywords {sorted(mark.kwargs)}")
        if not mark.args:
            problems.append("req marker needs at least one requirement ID")
        for arg in mark.args:
            if not isinstance(arg, str):
                problems.append(f"requirement ID must be a str, got {arg!r}")
            elif arg not in ids:
                ids.append(arg)
    if isinstance(catalogue, CatalogueError):
        problems.append(f"cannot check req IDs, the catalogue is invalid: {catalogue}")
    elif catalogue is not None:
        problems += [f"unknown requirement ID {rid!r} (not in spec/requirements/*.toml)" for rid in ids if rid not in catalogue]
    return ids, problems


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Validate the ``req`` markers of the items a module/class yields; any problem fails that collector."""
    report = yield
    items = [node for node in report.result if isinstance(node, pytest.Item)] if report.passed else []
    errors: list[str] = []
    for item in items:
        tagged = any(True for _ in item.iter_markers("req"))
        ids, problems = _problems(item, _catalogue_or_error() if tagged else None)
        if problems:
            errors.append(f"{item.nodeid}: " + "; ".join(problems))
        elif ids:
            item.user_properties.append((REQ_PROPERTY, ",".join(ids)))
    if errors:
        report.outcome = "failed"
        report.longrepr = "invalid @pytest.mark.req:\n" + "\n".join(errors)
        report.result = []
    return report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("spec", "requirement coverage (spec/requirements/*.toml)")
    group.addoption(
        "--spec-results",
        metavar="PATH",
        default=None,
        help="write {requirement_id: [{nodeid, outcome}]} for every test tagged with @pytest.mark.req",
    )
    group.addoption(
        "--spec-only",
        metavar="IDS",
        default=None,
        help="run only the tests tagged with one of these comma-separated requirement IDs (deselect the rest)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--spec-only``: keep the tests tagged with one of the given requirement IDs."""
    raw = config.getoption("--spec-only")
    if not isinstance(raw, str) or not raw.strip():
        return
    wanted = {rid.strip() for rid in raw.split(",") if rid.strip()}
    keep = [item for item in items if wanted & set(requirement_ids(item))]
    dropped = [item for item in items if not wanted & set(requirement_ids(item))]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


class SpecResultsRecorder:
    """Collects per-test outcomes of tagged tests from reports (in the xdist controller or a plain run)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tests: dict[str, tuple[list[str], str, str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        ids = [str(v) for k, v in report.user_properties if k == REQ_PROPERTY]
        if not ids:
            return
        message = ""
        if hasattr(report, "wasxfail"):
            outcome = "known"
            message = str(report.wasxfail)
        elif report.failed:
            outcome = "failed"
            message = failure_message(report)
        elif report.skipped:
            outcome = "skipped"
        elif report.when == "call":
            outcome = "passed"
        else:
            return
        previous = self.tests.get(report.nodeid)
        if previous is None or _SEVERITY[outcome] > _SEVERITY[previous[1]]:
            self.tests[report.nodeid] = (ids[0].split(","), outcome, message)

    def results(self) -> dict[str, list[dict[str, str]]]:
        by_id: dict[str, list[dict[str, str]]] = {}
        for nodeid in sorted(self.tests):
            ids, outcome, message = self.tests[nodeid]
            entry = {"nodeid": nodeid, "outcome": outcome}
            if message:
                entry["message"] = message
            for rid in ids:
                by_id.setdefault(rid, []).append(dict(entry))
        return {rid: by_id[rid] for rid in sort_ids(by_id)}

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.results(), indent=1) + "\n", encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_line(f"spec results: {len(self.tests)} tagged tests -> {self.path}")


def failure_message(report: pytest.TestReport, limit: int = 300) -> str:
    """The one-line reason of a failed report (the exception line, or the text a hook put in ``longrepr``)."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    text = str(getattr(crash, "message", "")) if crash is not None else str(longrepr or "")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--spec-results")
    is_xdist_worker = hasattr(config, "workerinput")
    if isinstance(path, str) and path and not is_xdist_worker:
        config.pluginmanager.register(SpecResultsRecorder(Path(path)), "esper-spec-results")


def read_results(path: Path) -> dict[str, list[dict[str, str]]]:
    """Load a ``--spec-results`` file, checking its shape."""
    raw: object = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object keyed by requirement ID")
    out: dict[str, list[dict[str, str]]] = {}
    for rid, entries in raw.items():
        if not isinstance(entries, list):
            raise ValueError(f"{path}: {rid!r} must map to a list of {{nodeid, outcome}} objects")
        rows: list[dict[str, str]] = []
        for entry in entries:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("nodeid"), str)
                or entry.get("outcome") not in OUTCOMES
            ):
                raise ValueError(f"{path}: {rid!r} has a malformed entry {entry!r}; outcome must be one of {OUTCOMES}")
            row = {"nodeid": str(entry["nodeid"]), "outcome": str(entry["outcome"])}
            if isinstance(entry.get("message"), str):
                row["message"] = str(entry["message"])
            rows.append(row)
        out[str(rid)] = rows
    return out

