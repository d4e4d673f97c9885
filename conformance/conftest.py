"""Conformance-kit pytest configuration: the target under test, its adapter, known failures, missing names.

Importing this file activates the target (:mod:`conformance.target`): ``ESPER_CONFORMANCE_TARGET`` goes first on
``sys.path`` and its ``esper`` is imported and pinned before any test module is imported.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from conformance.adapter import ConformanceAdapter, load_adapter
from conformance.plugin import requirement_ids
from conformance.spec_catalogue import Catalogue, load_catalogue
from conformance.target import Target, TargetError, activate, describe

_KIT_DIR = Path(__file__).resolve().parent
TARGET: Target = describe()
_ACTIVATION_ERROR: str | None = None
try:
    activate(TARGET)
except TargetError as exc:  # reported by every kit test, not as a crash of the whole session
    _ACTIVATION_ERROR = str(exc)

MISSING_PREFIX = "plan name missing from the target"


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = TARGET.header().splitlines()
    if _ACTIVATION_ERROR:
        lines.append(f"  TARGET ERROR: {_ACTIVATION_ERROR}")
    return lines


def _in_kit(item: pytest.Item) -> bool:
    return _KIT_DIR in item.path.resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Known failures of the target run as non-strict xfail (reported as *known*, never as a pass)."""
    for item in items:
        if not _in_kit(item):
            continue
        known = [rid for rid in requirement_ids(item) if rid in TARGET.known]
        if known:
            reason = "; ".join(f"{rid}: {TARGET.known[rid]}" for rid in known)
            item.add_marker(pytest.mark.xfail(reason=f"known failure of the target ({reason})", strict=False))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _ACTIVATION_ERROR and _in_kit(item):
        pytest.fail(f"conformance target unusable: {_ACTIVATION_ERROR}", pytrace=False)


def _missing_name(excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    """The message naming a plan name the target lacks, when ``excinfo`` is such an error."""
    exc = excinfo.value
    if isinstance(exc, ImportError) and (exc.name or "").startswith("esper"):
        return f"{MISSING_PREFIX}: {exc}"
    if isinstance(exc, ImportError) and "esper" in str(exc):
        return f"{MISSING_PREFIX}: {exc}"
    if isinstance(exc, AttributeError) and "esper" in type(getattr(exc, "obj", None)).__module__:
        return f"{MISSING_PREFIX}: {exc}"
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A test that fails because the target lacks a plan name fails with a one-line message naming it."""
    report = yield
    if call.excinfo is not None and report.failed and _in_kit(item):
        message = _missing_name(call.excinfo)
        if message is not None:
            report.longrepr = f"{item.nodeid}: {message}"
    return report


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The validated requirement catalogue (spec/requirements/*.toml)."""
    return load_catalogue()


@pytest.fixture(scope="session")
def adapter() -> ConformanceAdapter:
    """The target's adapter (``ESPER_CONFORMANCE_ADAPTER``; default: the kit's adapter for this package)."""
    try:
        return load_adapter(TARGET.adapter_spec)
    except (ImportError, ValueError, TypeError) as exc:
        pytest.fail(f"conformance adapter {TARGET.adapter_spec!r} unusable: {exc}", pytrace=False)
