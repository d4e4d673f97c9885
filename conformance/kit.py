"""Run the conformance kit against an implementation of the plan and report per requirement.

``python -m conformance.kit [--target DIR] [--adapter module:object] [--known FILE] [--only IDS] [-n N]``
(``make conformance TARGET=DIR``). It runs ``pytest`` over the kit's test directories in a fresh process with the
target configured (:mod:`conformance.target`), then prints a header naming the target and one line per
requirement the kit proves: ``ok``, ``FAILED`` (with the failing tests and the first line of each failure, e.g.
the missing plan name), ``known`` (listed in the target's known failures; never counted as a pass) or ``not run``.

Exit status: 0 when no requirement failed (known failures allowed), 1 otherwise, 2 when the kit itself could not
run (bad target, adapter or catalogue).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.plugin import read_results
from conformance.spec_catalogue import CatalogueError, load_catalogue, sort_ids
from conformance.target import ADAPTER_ENV, KIT_ROOT, KNOWN_ENV, TARGET_ENV, TargetError, describe

#: The kit's test directories (the catalogue self-tests in conformance/test_spec_*.py are not about the target).
KIT_DIRS: tuple[str, ...] = (
    "conformance/leyline",
    "conformance/kasmina",
    "conformance/tamiyo",
    "conformance/simic_agent",
    "conformance/training",
    "conformance/compile",
)
#: Requirement ID prefixes of the plan itself: every implemented one must be proven by the kit.
PLAN_PREFIXES: tuple[str, ...] = ("T", "CHK.")

Results = Mapping[str, list[dict[str, str]]]


@dataclass(frozen=True)
class Verdict:
    rid: str
    title: str
    verdict: str
    """ok | FAILED | known | not run."""
    details: tuple[str, ...] = ()


def verdicts(results: Results, requirement_ids: Sequence[str], titles: Mapping[str, str]) -> list[Verdict]:
    """One verdict per requirement from the tagged tests' outcomes."""
    out: list[Verdict] = []
    for rid in requirement_ids:
        tests = results.get(rid, [])
        outcomes = {t["outcome"] for t in tests}
        failed = [t for t in tests if t["outcome"] == "failed"]
        if failed:
            details = tuple(f"{t['nodeid']}: {t.get('message', '')}".rstrip(": ") for t in failed)
            out.append(Verdict(rid, titles.get(rid, ""), "FAILED", details))
        elif "known" in outcomes:
            reasons = sorted({t.get("message", "") for t in tests if t["outcome"] == "known"})
            out.append(Verdict(rid, titles.get(rid, ""), "known", tuple(r for r in reasons if r)))
        elif "passed" in outcomes:
            out.append(Verdict(rid, titles.get(rid, ""), "ok"))
        else:
            out.append(Verdict(rid, titles.get(rid, ""), "not run"))
    return out


def render(header: str, rows: Sequence[Verdict]) -> str:
    width = max((len(r.rid) for r in rows), default=8)
    lines = [header, ""]
    for row in rows:
        lines.append(f"{row.rid:<{width}}  {row.verdict:<8}  {row.title}")
        lines += [f"{'':<{width}}    {d}" for d in row.details]
    counts = {v: sum(r.verdict == v for r in rows) for v in ("ok", "FAILED", "known", "not run")}
    failed = [r.rid for r in rows if r.verdict == "FAILED"]
    lines += ["", "summary: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + f" (of {len(rows)} requirements)"]
    lines.append("failing requirements: " + (", ".join(failed) if failed else "none"))
    return "\n".join(lines)


def run_pytest(
    env: Mapping[str, str],
    results_path: Path,
    *,
    only: Sequence[str] = (),
    workers: int = 0,
    extra: Sequence[str] = (),
    timeout: float | None = None,
    paths: Sequence[str] = KIT_DIRS,
) -> subprocess.CompletedProcess[str]:
    """Run the kit's tests (``paths``: directories, files or node IDs) in a fresh interpreter (cwd: the kit) and
    write ``--spec-results``."""
    cmd = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
           "-o", "addopts=", "--spec-results", str(results_path), "--tb=line"]
    if only:
        cmd += ["--spec-only", ",".join(only)]
    cmd += ["-n", str(workers)] if workers > 0 else ["-p", "no:xdist"]
    cmd += list(extra)
    return subprocess.run(cmd, cwd=KIT_ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout)


def kit_env(target: Path | None, adapter: str | None, known: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in ((TARGET_ENV, target), (ADAPTER_ENV, adapter), (KNOWN_ENV, known)):
        if value is not None:
            env[key] = str(value)
    env.setdefault("HYPOTHESIS_PROFILE", "ci")
    env["PYTHONPATH"] = str(KIT_ROOT)  # the kit's own packages; the target goes first at activation
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.kit", description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, help=f"implementation directory (default: ${TARGET_ENV} or this repo)")
    parser.add_argument("--adapter", help=f"module:object of the target's adapter (default: ${ADAPTER_ENV})")
    parser.add_argument("--known", type=Path, help=f"known-failures TOML (default: ${KNOWN_ENV} or DIR/{'conformance-known-failures.toml'})")
    parser.add_argument("--only", help="comma-separated requirement IDs: run only their tests")
    parser.add_argument("-n", "--workers", type=int, default=0, help="pytest-xdist workers (default: none)")
    parser.add_argument("--fast", action="store_true", help="skip tests marked slow (the inductor build)")
    parser.add_argument("--results", type=Path, help="keep the per-test results JSON here")
    args = parser.parse_args(argv)

    env = kit_env(args.target.resolve() if args.target else None, args.adapter, args.known.resolve() if args.known else None)
    try:
        saved = {k: os.environ.get(k) for k in (TARGET_ENV, ADAPTER_ENV, KNOWN_ENV)}
        os.environ.update({k: env[k] for k in saved if k in env})
        try:
            target = describe()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        catalogue = load_catalogue()
    except (TargetError, CatalogueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    only = [rid.strip() for rid in (args.only or "").split(",") if rid.strip()]
    unknown = [rid for rid in only if rid not in catalogue]
    if unknown:
        print(f"error: --only names unknown requirement IDs {unknown}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as tmp:
        results_path = args.results or Path(tmp) / "results.json"
        proc = run_pytest(env, results_path, only=only, workers=args.workers, extra=["-m", "not slow"] if args.fast else [])
        if not results_path.is_file():
            print(proc.stdout[-6000:] + proc.stderr[-6000:], file=sys.stderr)
            print("error: the kit's pytest run wrote no results", file=sys.stderr)
            return 2
        results = read_results(results_path)

    collection_errors = [line for line in proc.stdout.splitlines() if line.startswith("ERROR ")]
    selected = only or sort_ids(
        {rid for rid in results} | {rid for rid, req in catalogue.items() if req.implemented and rid.startswith(PLAN_PREFIXES)}
    )
    rows = verdicts(results, selected, {rid: req.title for rid, req in catalogue.items()})
    print(render(target.header(), rows))
    if collection_errors:
        print("\ncollection errors (tests in these files did not run):\n  " + "\n  ".join(collection_errors))
    return 1 if any(r.verdict in ("FAILED", "not run") for r in rows) or collection_errors else 0


if __name__ == "__main__":
    sys.exit(main())
