# Esper developer commands. `make check` is the test gate (CI runs it); `make train` is the main job.
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONHASHSEED := 0
export HYPOTHESIS_PROFILE ?= ci

.PHONY: setup check typecheck test spec-report train bench bench-compare bench-baseline gpu-check clean

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
	$(PY) -m esper demo --out runs/demo --overwrite

BENCH_CLASS = $(shell PYTHONPATH=. $(PY) -m benchmarks.machine)
BENCH_BASELINE = benchmarks/baselines/$(BENCH_CLASS)
BENCH = PYTHONPATH=. $(PY) -m pytest benchmarks --benchmark-enable -p no:xdist -q \
	--benchmark-storage=file://$(BENCH_BASELINE) --benchmark-sort=name

## Benchmarks (benchmarks/README.md): time the suite, print the side-by-side ratios, write runs/bench/latest.json.
bench: setup
	@mkdir -p runs/bench
	$(BENCH) --benchmark-json=runs/bench/latest.json

## Regression check: rerun and fail when a mean is >20 % slower than the committed baseline of this machine class.
bench-compare: setup
	@test -d $(BENCH_BASELINE) || { echo "no baseline for machine class $(BENCH_CLASS): run make bench-baseline"; exit 1; }
	$(BENCH) --benchmark-compare --benchmark-compare-fail=mean:20%

## Refresh this machine class's baseline (then commit benchmarks/baselines/).
bench-baseline: setup
	rm -rf $(BENCH_BASELINE)
	$(BENCH) --benchmark-save=baseline

gpu-check: setup
	@bash scripts/gpu_check.sh

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .hypothesis runs
