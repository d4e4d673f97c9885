#!/usr/bin/env bash
# The test gate: mypy --strict over esper/, then tests/ + conformance/ in parallel, then the spec report.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
echo "== mypy --strict esper"
$PY -m mypy --strict esper
echo "== pytest (tests/ + conformance/, xdist, hypothesis profile ${HYPOTHESIS_PROFILE:-ci})"
$PY -m pytest -n "${ESPER_TEST_WORKERS:-2}" -q --spec-results .spec-results.json
echo "== spec report"
$PY -m conformance.report --results .spec-results.json --strict
