# Esper developer commands. `make check` is the test gate (CI runs it); `make train` is the main job.
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONHASHSEED := 0
export HYPOTHESIS_PROFILE ?= ci

.PHONY: setup check typecheck test spec-report conformance mutation train bench bench-compare gpu-check clean

setup:
	@bash scripts/bootstrap.sh

## The whole test gate: mypy --strict, unit + conformance tests in parallel, spec coverage report.
check: setup
	@bash scripts/check.sh

typecheck: setup
	$(PY) -m mypy --strict esper conformance

test: setup
	$(PY) -m pytest -n 2 -q

spec-report: setup
	$(PY) -m conformance.report

## Conformance kit against an implementation of the plan (default: this repository), slow tests included.
TARGET ?= .
conformance: setup
	$(PY) -m conformance.kit --target $(TARGET) -n 2

## Mutation self-check: plant plan violations in copies of the target, report the kill rate (not in the gate).
mutation: setup
	$(PY) -m conformance.mutation.run --target $(TARGET) --jobs 2

## Main job: train Tamiyo (PPO) on the default task, run baselines, write the report.
train: setup
	$(PY) -m esper demo --out runs/demo

BENCH := $(PY) -m pytest benchmarks --benchmark-enable --benchmark-storage=file://benchmarks/history -p no:xdist -q

## Benchmarks: save a run to benchmarks/history (commit it to move the baseline).
bench: setup
	$(BENCH) --benchmark-autosave

## Regression check: rerun and fail when a mean is >25 % slower than the newest saved run of this machine type.
bench-compare: setup
	$(BENCH) --benchmark-compare --benchmark-compare-fail=mean:25%

gpu-check: setup
	@bash scripts/gpu_check.sh

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .hypothesis runs
