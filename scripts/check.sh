#!/usr/bin/env bash
# The test gate: mypy --strict over esper/ and conformance/, then tests/ + conformance/ in parallel (without the
# tests marked slow: `make conformance` runs those), then the spec report.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
echo "== mypy --strict esper conformance"
$PY -m mypy --strict esper conformance
echo "== pytest (tests/ + conformance/, xdist, hypothesis profile ${HYPOTHESIS_PROFILE:-ci}, slow tests excluded)"
$PY -m pytest -n "${ESPER_TEST_WORKERS:-2}" -q -m "not slow" --spec-results .spec-results.json
echo "== spec report"
$PY -m conformance.report --results .spec-results.json --strict
