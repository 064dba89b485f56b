"""Availability kept per time slot (solver.model.Availability) behaves as the frozenset of shift
ids it stands for, so every search and check can take either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from solver import check, solve
from solver.model import Availability, Demand, Person, Problem, Shift, SlotTable

START = datetime(2026, 3, 2, 8, tzinfo=UTC)


def shifts() -> list[Shift]:
    out = []
    for day in range(3):
        for site in ("a", "b"):
            begin = START + timedelta(days=day)
            out.append(
                Shift(
                    id=f"{site}{day}",
                    site=site,
                    start=begin,
                    end=begin + timedelta(hours=8),
                    kind="day",
                    demands=(Demand("general", 1),),
                )
            )
    return out


def table(all_shifts: list[Shift]) -> SlotTable:
    by_slot: dict[int, list[str]] = {}
    for s in all_shifts:
        by_slot.setdefault((s.start - START).days, []).append(s.id)
    return SlotTable(by_slot)


def test_it_is_the_set_of_its_slots_shifts() -> None:
    slots = table(shifts())
    lazy = Availability(slots, [0, 2, 9], extra=["b1"], excluded=["a2"])
    expected = frozenset({"a0", "b0", "b1", "b2"})
    assert lazy == expected
    assert len(lazy) == 4
    assert set(lazy) == expected
    assert "a2" not in lazy
    assert "b1" in lazy
    assert "zz" not in lazy
    assert lazy & {"a0", "a1"} == frozenset({"a0"})
    assert isinstance(lazy - {"a0"}, frozenset)
    assert lazy.isdisjoint(frozenset({"a1"}))
    assert not lazy.isdisjoint(frozenset({"a0", "b0"}))  # a whole slot: one look-up
    assert lazy.isdisjoint(frozenset({"a2"}) | {"a1"})
    assert hash(lazy) == hash(expected)


def test_a_person_keeps_it_lazy_and_the_solver_rosters_with_it() -> None:
    all_shifts = shifts()
    slots = table(all_shifts)
    lazy = [
        Person(id=f"p{i}", roles=frozenset({"general"}), available=Availability(slots, [i % 3]))
        for i in range(6)
    ]
    eager = [Person(id=p.id, roles=p.roles, available=frozenset(p.available)) for p in lazy]
    assert isinstance(lazy[0].available, Availability)
    results = []
    for people in (lazy, eager):
        problem = Problem(shifts=tuple(all_shifts), people=tuple(people))
        solution = solve(problem, time_limit=5, workers=1, deterministic=True)
        assert check(problem, solution).ok
        results.append((solution.objective, solution.unfilled))
    assert results[0] == results[1]
