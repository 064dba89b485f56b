"""Reader for the Curtois & Qu employee shift scheduling instance format.

See ``../shared/benchmarks/curtois/README.md`` for the format. Only the file is read here; the
mapping onto :class:`solver.Problem` lives in :mod:`benchmarks.curtois`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ShiftType:
    id: str
    minutes: int
    cannot_follow: tuple[str, ...]


@dataclass(frozen=True)
class Staff:
    id: str
    max_shifts: dict[str, int]
    max_total_minutes: int
    min_total_minutes: int
    max_consecutive_shifts: int
    min_consecutive_shifts: int
    min_consecutive_days_off: int
    max_weekends: int


@dataclass(frozen=True)
class ShiftRequest:
    employee: str
    day: int
    shift: str
    weight: int


@dataclass(frozen=True)
class Cover:
    day: int
    shift: str
    requirement: int
    weight_under: int
    weight_over: int


@dataclass
class Instance:
    """One instance file, parsed."""

    name: str
    horizon: int
    shift_types: list[ShiftType] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    days_off: dict[str, set[int]] = field(default_factory=dict)
    on_requests: list[ShiftRequest] = field(default_factory=list)
    off_requests: list[ShiftRequest] = field(default_factory=list)
    cover: list[Cover] = field(default_factory=list)


def read_instance(path: Path) -> Instance:
    """Parse an instance file (any line endings; comments and blank lines ignored)."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            current = sections.setdefault(line[len("SECTION_") :], [])
            continue
        if current is None:
            raise ValueError(f"{path}: data before the first section: {line!r}")
        current.append([cell.strip() for cell in line.split(",")])
    try:
        horizon = int(sections["HORIZON"][0][0])
    except (KeyError, IndexError) as error:
        raise ValueError(f"{path}: missing SECTION_HORIZON") from error
    instance = Instance(name=path.stem, horizon=horizon)
    for row in sections.get("SHIFTS", []):
        follow = tuple(s for s in (row[2].split("|") if len(row) > 2 else []) if s)
        instance.shift_types.append(ShiftType(row[0], int(row[1]), follow))
    for row in sections.get("STAFF", []):
        caps = {}
        for pair in filter(None, row[1].split("|")):
            shift, _, count = pair.partition("=")
            caps[shift] = int(count)
        instance.staff.append(Staff(row[0], caps, *(int(v) for v in row[2:8])))
    for row in sections.get("DAYS_OFF", []):
        instance.days_off.setdefault(row[0], set()).update(int(d) for d in row[1:] if d)
    for key, target in (
        ("SHIFT_ON_REQUESTS", instance.on_requests),
        ("SHIFT_OFF_REQUESTS", instance.off_requests),
    ):
        for row in sections.get(key, []):
            target.append(ShiftRequest(row[0], int(row[1]), row[2], int(row[3])))
    for row in sections.get("COVER", []):
        instance.cover.append(Cover(int(row[0]), row[1], int(row[2]), int(row[3]), int(row[4])))
    return instance


def best_known_values(folder: Path) -> dict[str, int]:
    """Best known objective per instance name, read from the README table next to the files."""
    readme = folder / "README.md"
    if not readme.exists():
        return {}
    values = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"\d+", cells[-1]) and re.fullmatch(r"\w+", cells[0]):
            values[cells[0]] = int(cells[-1])
    return values


def write_roster(path: Path, instance: Instance, roster: dict[str, list[str]]) -> None:
    """Write one line per employee (file order): the id, then the shift id or '' per day."""
    lines = [",".join([s.id, *roster.get(s.id, [""] * instance.horizon)]) for s in instance.staff]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_roster(path: Path) -> dict[str, list[str]]:
    """Read a roster written by :func:`write_roster`."""
    roster = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            cells = line.split(",")
            roster[cells[0]] = cells[1:]
    return roster
