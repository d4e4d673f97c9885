"""``make mutation``: plant each plan violation in a copy of the target and check that the kit catches it.

``python -m conformance.mutation.run [--target DIR] [--jobs N] [--only NAME,...] [--materialize NAME DIR]``

For every mutant of :mod:`conformance.mutation.mutants`: copy the target's ``esper`` package (and
``pyproject.toml``) to a temporary directory, apply the mutant, and run the kit's tests tagged with the mutant's
requirement against the copy through ``ESPER_CONFORMANCE_TARGET`` (slow tests excluded). The mutant is *killed*
when one of those tests fails; the report lists which requirements' tests caught it and the kill rate. Mutants
run ``--jobs`` at a time (default: 2). Exit status 1 when the kill rate is below 95 % or a mutant is stale.

``--materialize NAME DIR`` only writes the mutated copy to ``DIR`` (to run the whole kit on it:
``make conformance TARGET=DIR``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from conformance.kit import KIT_DIRS, kit_env, run_pytest
from conformance.report import collect_static
from conformance.mutation.mutants import MUTANTS, Mutant
from conformance.plugin import read_results
from conformance.target import KIT_ROOT

MIN_KILL_RATE = 0.95


class StaleMutantError(ValueError):
    """A mutant's ``old`` snippet does not occur exactly once in its file."""


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    killed: bool
    caught_by: tuple[str, ...]
    tests_run: int
    seconds: float
    error: str = ""


def materialize(mutant: Mutant, target: Path, out: Path) -> Path:
    """Copy ``target``'s ``esper`` package (+ pyproject.toml) to ``out`` and apply ``mutant``."""
    shutil.copytree(target / "esper", out / "esper", ignore=shutil.ignore_patterns("__pycache__"))
    if (target / "pyproject.toml").is_file():
        shutil.copy2(target / "pyproject.toml", out / "pyproject.toml")
    path = out / mutant.path
    if not path.is_file():
        raise StaleMutantError(f"mutant {mutant.name}: {mutant.path} does not exist in the target")
    text = path.read_text(encoding="utf-8")
    count = text.count(mutant.old)
    if count != 1:
        raise StaleMutantError(f"mutant {mutant.name}: expected its snippet once in {mutant.path}, found {count}")
    path.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
    return out


def tests_by_requirement() -> dict[str, list[str]]:
    """``{requirement: [test files]}`` of the kit (collected once, statically, from this kit)."""
    mapping = collect_static(KIT_DIRS)
    return {rid: sorted({t["nodeid"].split("::")[0] for t in tests}) for rid, tests in mapping.items()}


def run_mutant(mutant: Mutant, target: Path, timeout: float, files: Sequence[str]) -> Outcome:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"esper-mutant-{mutant.name}-") as tmp:
        try:
            copy = materialize(mutant, target, Path(tmp) / "target")
        except StaleMutantError as exc:
            return Outcome(mutant, False, (), 0, time.perf_counter() - start, str(exc))
        results_path = Path(tmp) / "results.json"
        env = kit_env(copy, None, None)
        env["ESPER_CONFORMANCE_KNOWN_FAILURES"] = ""  # a mutant has no known failures
        try:
            run_pytest(
                env, results_path, only=[mutant.requirement], extra=["-m", "not slow", "-x"], timeout=timeout, paths=files
            )
        except subprocess.TimeoutExpired:
            return Outcome(mutant, True, ("timeout",), 0, time.perf_counter() - start)
        if not results_path.is_file():
            return Outcome(mutant, False, (), 0, time.perf_counter() - start, "the kit's pytest run wrote no results")
        results = read_results(results_path)
    caught = tuple(sorted(rid for rid, tests in results.items() if any(t["outcome"] == "failed" for t in tests)))
    tests = len({t["nodeid"] for rows in results.values() for t in rows})
    return Outcome(mutant, bool(caught), caught, tests, time.perf_counter() - start)


def render(outcomes: Sequence[Outcome], wall: float, jobs: int) -> str:
    lines = [f"{'mutant':<40} {'breaks':<9} {'verdict':<8} {'tests':>5} {'s':>5}  caught by"]
    for o in outcomes:
        verdict = "STALE" if o.error else ("killed" if o.killed else "SURVIVED")
        caught = o.error or ", ".join(o.caught_by) or "-"
        lines.append(f"{o.mutant.name:<40} {o.mutant.requirement:<9} {verdict:<8} {o.tests_run:>5} {o.seconds:>5.0f}  {caught}")
    killed = sum(o.killed for o in outcomes)
    rate = killed / len(outcomes) if outcomes else 0.0
    lines.append("")
    lines.append(f"kill rate: {killed}/{len(outcomes)} = {100 * rate:.1f} % (required >= {100 * MIN_KILL_RATE:.0f} %); "
                 f"wall time {wall:.0f} s with {jobs} parallel job(s)")
    survivors = [o.mutant.name for o in outcomes if not o.killed]
    lines.append("survivors: " + (", ".join(survivors) if survivors else "none"))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.mutation.run", description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=KIT_ROOT, help="the implementation to mutate (default: this repo)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run in parallel (default: 2)")
    parser.add_argument("--only", help="comma-separated mutant names")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant")
    parser.add_argument("--materialize", nargs=2, metavar=("NAME", "DIR"), help="write one mutated copy and stop")
    args = parser.parse_args(argv)
    target = args.target.resolve()
    by_name = {m.name: m for m in MUTANTS}

    if args.materialize:
        name, out = args.materialize
        if name not in by_name:
            print(f"error: unknown mutant {name!r}; known: {sorted(by_name)}", file=sys.stderr)
            return 2
        print(materialize(by_name[name], target, Path(out).resolve()))
        return 0

    names = [n.strip() for n in (args.only or "").split(",") if n.strip()] or list(by_name)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        print(f"error: unknown mutants {unknown}; known: {sorted(by_name)}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"error: --jobs must be >= 1, got {args.jobs}", file=sys.stderr)
        return 2
    print(f"mutation self-check: {len(names)} mutants of {target}, {args.jobs} at a time", flush=True)
    start = time.perf_counter()
    files = tests_by_requirement()
    missing = sorted({by_name[n].requirement for n in names} - set(files))
    if missing:
        print(f"error: the kit has no tests for the mutants' requirements {missing}", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(
            pool.map(lambda n: run_mutant(by_name[n], target, args.timeout, files[by_name[n].requirement]), names)
        )
    print(render(outcomes, time.perf_counter() - start, args.jobs))
    killed = sum(o.killed for o in outcomes)
    stale = any(o.error for o in outcomes)
    return 0 if outcomes and not stale and killed / len(outcomes) >= MIN_KILL_RATE else 1


if __name__ == "__main__":
    sys.exit(main())
