"""The flat search's elite pool: spacing and restart targets (solver.cpsat)."""

from __future__ import annotations

from array import array

from solver import cpsat


def test_a_near_copy_replaces_a_kept_roster_only_when_better() -> None:
    elite = cpsat._Elite([0, 1, 2, 3, 4, 5], 4, spacing=3)
    elite.add(array("q", [1, 1, 0, 0, 0, 0]), 20.0)
    elite.add(array("q", [1, 0, 1, 0, 0, 0]), 20.0)  # two from the first: a tie, dropped
    elite.add(array("q", [0, 1, 1, 0, 0, 0]), 25.0)  # two from the first: worse, dropped
    assert [entry[2] for entry in elite.entries] == [bytes([1, 1, 0, 0, 0, 0])]
    elite.add(array("q", [0, 0, 0, 1, 1, 1]), 30.0)  # five away: kept
    elite.add(array("q", [1, 0, 1, 0, 0, 0]), 18.0)  # near the first and better: replaces it
    assert [(entry[0], entry[2]) for entry in elite.entries] == [
        (18.0, bytes([1, 0, 1, 0, 0, 0])),
        (30.0, bytes([0, 0, 0, 1, 1, 1])),
    ]


def test_a_better_roster_replaces_every_kept_roster_near_it() -> None:
    elite = cpsat._Elite([0, 1, 2, 3], 4, spacing=3)
    elite.add(array("q", [1, 1, 0, 0]), 20.0)
    elite.add(array("q", [0, 0, 1, 1]), 21.0)  # four from the first
    elite.add(array("q", [1, 0, 1, 0]), 10.0)  # two from each
    assert [(entry[0], entry[2]) for entry in elite.entries] == [(10.0, bytes([1, 0, 1, 0]))]


def test_without_spacing_only_the_same_roster_counts_as_a_copy() -> None:
    elite = cpsat._Elite([0, 1], 4)
    elite.add(array("q", [1, 0, 5]), 20.0)
    elite.add(array("q", [0, 1, 5]), 20.0)
    elite.add(array("q", [1, 0, 3]), 19.0)  # the same roster, its aux variables better
    assert [(entry[0], entry[1]) for entry in elite.entries] == [(19.0, 1), (20.0, 2)]
    assert list(elite.entries[0][3]) == [1, 0, 3]


def test_distance_counts_the_roster_variables_that_differ() -> None:
    assert cpsat._Elite.distance(bytes([1, 0, 1, 1]), bytes([0, 0, 1, 0])) == 2
    assert cpsat._Elite.distance(bytes(1000), bytes(1000)) == 0
    assert cpsat._Elite.distance(bytes([1] * 1000), bytes(1000)) == 1000


def test_a_restart_goes_to_the_farthest_roster_close_to_the_best() -> None:
    elite = cpsat._Elite([0, 1, 2, 3, 4, 5], 8)
    incumbent = array("q", [1, 1, 1, 0, 0, 0])
    elite.add(incumbent, 100.0)
    elite.add(array("q", [1, 1, 0, 1, 0, 0]), 100.0)  # two away, as good
    elite.add(array("q", [0, 1, 1, 1, 1, 0]), 101.0)  # three away, within 1 %
    elite.add(array("q", [0, 0, 0, 1, 1, 1]), 150.0)  # six away, far worse
    target = elite.farthest(incumbent, 0.01)
    assert target is not None
    assert target[0] == 101.0
    anywhere = elite.farthest(incumbent)
    assert anywhere is not None
    assert anywhere[0] == 150.0
    # nothing else close: the best of the others
    lone = cpsat._Elite([0, 1, 2], 8)
    lone.add(array("q", [1, 0, 0]), 10.0)
    lone.add(array("q", [0, 0, 1]), 14.0)
    lone.add(array("q", [0, 1, 1]), 12.0)
    fallback = lone.farthest(array("q", [1, 0, 0]), 0.01)
    assert fallback is not None
    assert fallback[0] == 12.0
