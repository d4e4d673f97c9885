"""The requirement catalogue: every ``spec/requirements/*.toml`` file, loaded and validated.

Each file holds ``[[requirement]]`` tables with the keys ``id``, ``source``, ``title``, ``text``, ``status``
(and optionally ``notes``). See ``spec/README.md`` for the ID scheme.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS_DIR = REPO_ROOT / "spec" / "requirements"
DECISIONS_DIR = REPO_ROOT / "spec" / "decisions"

STATUSES: tuple[str, ...] = ("implemented", "planned")
REQUIRED_KEYS: tuple[str, ...] = ("id", "source", "title", "text", "status")
OPTIONAL_KEYS: tuple[str, ...] = ("notes",)

#: Plan task items ``T05.1`` / ``T11.3.2``; checklist ``CHK.05.1``; design note ``SYS.3.4`` (``SYS.3.4.1``);
#: decisions ``DEC.<area>.<k>``; plan-level items ``PLAN.<k>``; issues ``ISSUE.<n>.<k>``;
#: the plan's "Monitoring" items ``MON.<k>``.
ID_PATTERN = re.compile(
    r"^(?:T\d{2}(?:\.\d+){1,2}"
    r"|CHK\.\d{2}\.\d+"
    r"|SYS\.\d+(?:\.\d+){1,2}"
    r"|DEC\.[a-z][a-z0-9_]*\.\d+"
    r"|PLAN\.\d+"
    r"|MON\.\d+"
    r"|ISSUE\.\d+\.\d+)$"
)
ID_SCHEME = "Tnn.k | Tnn.m.k | CHK.nn.k | SYS.<section>.<k> | DEC.<area>.<k> | PLAN.<k> | MON.<k> | ISSUE.<n>.<k>"


class CatalogueError(ValueError):
    """The requirement catalogue is malformed; the message names the file and the requirement."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """One numbered requirement."""

    id: str
    source: str
    title: str
    text: str
    status: str
    area: str
    """Stem of the TOML file that defines it, e.g. ``"leyline"``."""
    path: Path
    notes: str = ""

    @property
    def implemented(self) -> bool:
        return self.status == "implemented"


def _parse_file(path: Path) -> list[Requirement]:
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: invalid TOML: {exc}") from None
    extra_tables = sorted(set(doc) - {"requirement"})
    if extra_tables:
        raise CatalogueError(f"{path}: unexpected top-level keys {extra_tables}; only [[requirement]] tables allowed")
    entries = doc.get("requirement", [])
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{path}: expected at least one [[requirement]] table")
    out: list[Requirement] = []
    for n, entry in enumerate(entries, start=1):
        where = f"{path}: requirement #{n}"
        if not isinstance(entry, dict):
            raise CatalogueError(f"{where}: must be a table")
        rid = entry.get("id")
        if isinstance(rid, str):
            where = f"{path}: requirement {rid!r}"
        missing = [k for k in REQUIRED_KEYS if k not in entry]
        if missing:
            raise CatalogueError(f"{where}: missing keys {missing}; required: {list(REQUIRED_KEYS)}")
        unknown = sorted(set(entry) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
        if unknown:
            raise CatalogueError(
                f"{where}: unknown keys {unknown}; allowed: {list(REQUIRED_KEYS) + list(OPTIONAL_KEYS)}"
            )
        for key in (*REQUIRED_KEYS, *OPTIONAL_KEYS):
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                raise CatalogueError(f"{where}: {key!r} must be a non-empty string, got {entry[key]!r}")
        if not ID_PATTERN.match(entry["id"]):
            raise CatalogueError(f"{where}: id {entry['id']!r} does not follow the ID scheme {ID_SCHEME}")
        if entry["status"] not in STATUSES:
            raise CatalogueError(f"{where}: status {entry['status']!r} is invalid; valid: {list(STATUSES)}")
        out.append(
            Requirement(
                id=entry["id"],
                source=entry["source"],
                title=entry["title"].strip(),
                text=" ".join(entry["text"].split()),
                status=entry["status"],
                area=path.stem,
                path=path,
                notes=entry.get("notes", ""),
            )
        )
    return out


_PREFIX_ORDER = {"T": 0, "CHK": 1, "SYS": 2, "PLAN": 3, "MON": 3, "DEC": 4, "ISSUE": 5}


def _id_key(rid: str) -> tuple[int, str, tuple[tuple[int, int, str], ...]]:
    prefix = rid[: len(rid) - len(rid.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))]
    parts = rid[len(prefix) :].lstrip(".").split(".")
    return (_PREFIX_ORDER.get(prefix, 9), prefix, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts))


def sort_ids(ids: Iterable[str]) -> list[str]:
    """IDs in natural order: T, CHK, SYS, PLAN, DEC, ISSUE; numerically within (T01.2 before T01.10)."""
    return sorted(ids, key=_id_key)


@dataclass(frozen=True, slots=True)
class Catalogue(Mapping[str, Requirement]):
    """All requirements, keyed by id, in natural id order."""

    requirements: dict[str, Requirement]

    def __getitem__(self, rid: str) -> Requirement:
        try:
            return self.requirements[rid]
        except KeyError:
            raise KeyError(f"requirement {rid!r} is not in spec/requirements/*.toml") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.requirements)

    def __len__(self) -> int:
        return len(self.requirements)

    @property
    def areas(self) -> list[str]:
        return sorted({r.area for r in self.requirements.values()})

    def select(self, areas: Iterable[str] = (), prefixes: Iterable[str] = ()) -> list[str]:
        """IDs in the given areas (TOML stems) and/or starting with one of ``prefixes``; all when both empty."""
        areas, prefixes = list(areas), list(prefixes)
        unknown = sorted(set(areas) - set(self.areas))
        if unknown:
            raise ValueError(f"unknown areas {unknown}; valid: {self.areas}")
        return [
            rid
            for rid, req in self.requirements.items()
            if (not areas and not prefixes)
            or req.area in areas
            or any(rid == p or rid.startswith(p.rstrip(".") + ".") for p in prefixes)
        ]


def load_catalogue(directory: Path = REQUIREMENTS_DIR) -> Catalogue:
    """Load and validate every ``*.toml`` under ``directory``; raise :class:`CatalogueError` on any problem."""
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogueError(f"{directory}: no requirement files (*.toml)")
    by_id: dict[str, Requirement] = {}
    for path in files:
        for req in _parse_file(path):
            if req.id in by_id:
                first = by_id[req.id].path
                raise CatalogueError(f"requirement {req.id!r} is defined twice: in {first} and in {path}")
            by_id[req.id] = req
    return Catalogue({rid: by_id[rid] for rid in sort_ids(by_id)})


def decision_ids_missing_from_notes(catalogue: Catalogue, directory: Path = DECISIONS_DIR) -> list[str]:
    """``DEC.<area>.<k>`` ids that are not mentioned in ``spec/decisions/<area>.md``."""
    missing: list[str] = []
    for rid in catalogue:
        if not rid.startswith("DEC."):
            continue
        note = directory / f"{rid.split('.')[1]}.md"
        text = note.read_text(encoding="utf-8") if note.is_file() else ""
        if not re.search(rf"(?<![\w.]){re.escape(rid)}(?![\w]|\.\d)", text):
            missing.append(f"{rid} (expected in {note.relative_to(REPO_ROOT)})")
    return missing
