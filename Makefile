# Esper developer commands. `make check` is the test gate (CI runs it); `make train` is the main job.
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONHASHSEED := 0
export HYPOTHESIS_PROFILE ?= ci

.PHONY: setup check typecheck test spec-report train bench bench-compare gpu-check clean

setup:
	@bash scripts/bootstrap.sh

## The whole test gate: mypy --strict, unit + conformance tests in parallel, spec coverage report.
check: setup
	@bash scripts/check.sh

typecheck: setup
	$(PY) -m mypy --strict esper

test: setup
	$(PY) -m pytest -n 2 -q

spec-report: setup
	$(PY) -m conformance.report

## Main job: train Tamiyo (PPO) on the default task, run baselines, write the report.
train: setup
	$(PY) -m esper demo --out runs/demo

bench: setup
	$(PY) -m pytest benchmarks --benchmark-enable --benchmark-autosave -p no:xdist -q

bench-compare: setup
	$(PY) -m pytest benchmarks --benchmark-enable --benchmark-compare --benchmark-compare-fail=mean:25% -p no:xdist -q

gpu-check: setup
	@bash scripts/gpu_check.sh

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .hypothesis runs
