"""scheduler.planning: a small seeded world maps onto the solver's Problem as the rules say
(availability, qualifications, training, days off, nights, partners, preferences, pins), and
save_solution writes only rosters solver.check accepts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

import solver
from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Availability,
    DayOff,
    District,
    PlanningPeriod,
    Role,
    Roster,
    Site,
    Skill,
    SolveRun,
    UnfilledPost,
    User,
    VolunteerSkill,
)
from scheduler.models.base import utcnow
from scheduler.planning import (
    PlanningError,
    SolutionRejected,
    build_problem,
    person_id,
    save_solution,
    shift_id,
)
from scheduler.services.availability import default_start

MON, TUE, WED = date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)


@dataclass
class SmallWorld:
    """Two sites over three days and a handful of volunteers, each there to show one rule."""

    period: PlanningPeriod
    checkpoint: Site  # night + day: site lead 1, code checker 1
    testing: Site  # day only: sampler 1
    people: dict[str, User]

    def pid(self, name: str) -> str:
        volunteer = self.people[name].volunteer
        assert volunteer is not None
        return person_id(volunteer.id)

    def vid(self, name: str) -> int:
        volunteer = self.people[name].volunteer
        assert volunteer is not None
        return volunteer.id


def skill(code: str) -> Skill:
    return db.session.scalars(select(Skill).where(Skill.code == code)).one()


def build_small_world(make_site: Callable[..., Site], make_volunteer: Callable[..., User]) -> Any:
    east = District(name="东区")
    west = District(name="西区")
    db.session.add_all([east, west])
    db.session.commit()
    checkpoint = make_site(
        name="东卡口",
        demand={"site_lead": 1, "code_checker": 1},
        runs_evening=False,
        district=east,
    )
    testing = make_site(
        name="西检测点",
        kind="testing",
        demand={"sampler": 1},
        runs_night=False,
        runs_evening=False,
        district=west,
    )
    period = PlanningPeriod(
        name="小期", start_date=MON, end_date=WED, is_open=True, sites=[checkpoint, testing]
    )
    db.session.add(period)
    db.session.commit()
    now = utcnow()
    people = {
        "lead": make_volunteer(name="林点长", trained_at=now, district=east, accepts_nights=True),
        "checker": make_volunteer(name="陈查验", trained_at=now, district=west),
        "untrained": make_volunteer(name="王新人"),
        "nurse": make_volunteer(name="赵护士", trained_at=now),
        "unverified": make_volunteer(name="钱未审", trained_at=now),
        "off": make_volunteer(name="孙休息", trained_at=now),
    }
    partner = make_volunteer(name="周搭档", trained_at=now, partner_phone=people["checker"].phone)
    people["partner"] = partner
    people["checker"].volunteer.partner_phone = partner.phone  # type: ignore[union-attr]
    vols = {name: user.volunteer for name, user in people.items()}
    db.session.add_all(
        [
            VolunteerSkill(volunteer_id=vols["lead"].id, skill_id=skill("leadership").id),
            VolunteerSkill(
                volunteer_id=vols["nurse"].id, skill_id=skill("medical").id, verified_at=now
            ),
            VolunteerSkill(volunteer_id=vols["unverified"].id, skill_id=skill("medical").id),
        ]
    )
    cells = {
        "lead": [(MON, "night"), (MON, "day"), (TUE, "day"), (WED, "day")],
        "checker": [(MON, "day"), (TUE, "day"), (WED, "day")],
        "untrained": [(MON, "day")],
        "nurse": [(MON, "day"), (TUE, "day")],
        "unverified": [(MON, "day"), (TUE, "day"), (WED, "day")],
        "off": [(MON, "day"), (TUE, "day")],
        "partner": [(MON, "day"), (TUE, "day"), (WED, "day")],
    }
    for name, taps in cells.items():
        for day, kind in taps:
            db.session.add(
                Availability(volunteer_id=vols[name].id, day=day, start_hour=default_start(kind))
            )  # type: ignore[union-attr]
    db.session.add(DayOff(volunteer_id=vols["off"].id, day=TUE))  # type: ignore[union-attr]
    db.session.commit()
    return SmallWorld(period, checkpoint, testing, people)


@pytest.fixture
def small(app: Flask, make_site: Any, make_volunteer: Any) -> SmallWorld:
    return build_small_world(make_site, make_volunteer)


def test_shifts_cover_each_site_day_and_kind_with_its_demand(small: SmallWorld) -> None:
    problem, mapping = build_problem(small.period)
    ids = {s.id for s in problem.shifts}
    c, t = small.checkpoint.id, small.testing.id
    assert ids == {shift_id(c, d, k) for d in (MON, TUE, WED) for k in ("night", "day")} | {
        shift_id(t, d, "day") for d in (MON, TUE, WED)
    }
    night = problem.shift(shift_id(c, MON, "night"))
    assert night.kind == "night"
    assert night.day == MON
    assert night.start.tzinfo is not None
    assert (night.start.hour, (night.end - night.start).total_seconds()) == (0, 8 * 3600)
    assert {(d.role, d.min) for d in night.demands} == {("site_lead", 1), ("code_checker", 1)}
    assert problem.rules.lead_role == "site_lead"
    assert mapping.posts_total == 3 * 2 * 2 + 3 * 1
    assert mapping.shifts[shift_id(t, TUE, "day")] == (t, TUE, "day")


def test_people_get_qualifications_training_availability_days_off_nights(
    small: SmallWorld,
) -> None:
    problem, mapping = build_problem(small.period)
    c, t = small.checkpoint.id, small.testing.id
    person = {name: problem.person(small.pid(name)) for name in small.people}
    assert {"site_lead", "code_checker", "registrar"} <= person["lead"].roles
    assert "site_lead" not in person["checker"].roles  # no leadership skill
    assert "code_checker" in person["checker"].roles
    # Untrained: only roles without training.
    assert "code_checker" not in person["untrained"].roles
    assert "registrar" in person["untrained"].roles
    assert "sampler" in person["nurse"].roles
    assert "sampler" not in person["unverified"].roles  # qualification not verified
    # Availability: the tapped (day, kind) at every site running it, minus days off.
    assert person["lead"].available == {
        shift_id(c, MON, "night"),
        shift_id(c, MON, "day"),
        shift_id(c, TUE, "day"),
        shift_id(c, WED, "day"),
        shift_id(t, MON, "day"),
        shift_id(t, TUE, "day"),
        shift_id(t, WED, "day"),
    }
    assert person["off"].available == {shift_id(c, MON, "day"), shift_id(t, MON, "day")}
    assert person["off"].days_off == {TUE}
    assert person["lead"].accepts_nights
    assert not person["checker"].accepts_nights
    assert person["lead"].weekly_cap == 5
    # Partners resolve from the phone number, both ways; preferred sites by district.
    assert person["checker"].partner == small.pid("partner")
    assert person["partner"].partner == small.pid("checker")
    assert person["lead"].partner is None
    assert person["lead"].preferred_sites == {str(c)}
    assert person["checker"].preferred_sites == {str(t)}
    assert person["nurse"].preferred_sites == frozenset()
    assert mapping.volunteers[small.pid("nurse")] == small.vid("nurse")


def test_inactive_accounts_are_not_rostered(small: SmallWorld) -> None:
    small.people["untrained"].active = False
    db.session.commit()
    problem, _ = build_problem(small.period)
    assert small.pid("untrained") not in {p.id for p in problem.people}


def test_a_subset_of_sites_and_unknown_sites(small: SmallWorld) -> None:
    problem, mapping = build_problem(small.period, site_ids=[small.testing.id])
    assert {s.site for s in problem.shifts} == {str(small.testing.id)}
    assert mapping.posts_total == 3
    with pytest.raises(PlanningError):
        build_problem(small.period, site_ids=[small.testing.id + 999])


def _draft(small: SmallWorld, rows: list[tuple[Site, date, str, str, str, bool]]) -> Roster:
    roles = {r.code: r.id for r in db.session.scalars(select(Role))}
    draft = Roster(period_id=small.period.id, status="draft")
    db.session.add(draft)
    db.session.flush()
    for site, day, kind, role, name, pinned in rows:
        db.session.add(
            Assignment(
                roster_id=draft.id,
                site_id=site.id,
                day=day,
                shift=kind,
                role_id=roles[role],
                volunteer_id=small.vid(name),
                pinned=pinned,
                source="hand" if pinned else "solver",
            )
        )
    db.session.commit()
    return draft


def test_pins_and_other_sites_assignments_are_kept_as_pins(small: SmallWorld) -> None:
    c, t = small.checkpoint, small.testing
    _draft(
        small,
        [
            (c, MON, "day", "site_lead", "lead", True),  # pinned at a solved site
            (c, TUE, "day", "code_checker", "checker", False),  # solver's, replaced
            (t, MON, "day", "sampler", "nurse", False),  # another site: kept
        ],
    )
    problem, mapping = build_problem(small.period, site_ids=[c.id])
    pins = {(a.person, a.shift, a.role) for a in problem.pins}
    assert pins == {
        (small.pid("lead"), shift_id(c.id, MON, "day"), "site_lead"),
        (small.pid("nurse"), shift_id(t.id, MON, "day"), "sampler"),
    }
    # The testing site's shift is there only to carry the kept assignment: no shortfall.
    kept = problem.shift(shift_id(t.id, MON, "day"))
    assert [(d.role, d.min, d.upper) for d in kept.demands] == [("sampler", 1, 1)]
    assert mapping.fixed_shifts == {shift_id(t.id, MON, "day")}
    assert shift_id(t.id, TUE, "day") not in {s.id for s in problem.shifts}


def test_baseline_comes_from_the_given_roster(small: SmallWorld) -> None:
    c = small.checkpoint
    draft = _draft(small, [(c, TUE, "day", "code_checker", "checker", False)])
    problem, _ = build_problem(small.period, baseline_roster=draft)
    assert [(a.person, a.shift, a.role) for a in problem.baseline] == [
        (small.pid("checker"), shift_id(c.id, TUE, "day"), "code_checker")
    ]


def test_only_a_minimal_change_run_makes_moving_people_expensive(small: SmallWorld) -> None:
    """A repair keeps what volunteers were told unless a move fills a post; an ordinary
    re-solve weighs changes as lightly as the brief's order of soft goals says."""
    c = small.checkpoint
    draft = _draft(small, [(c, TUE, "day", "code_checker", "checker", False)])
    ordinary, _ = build_problem(small.period, baseline_roster=draft)
    repair, _ = build_problem(small.period, baseline_roster=draft, minimal_change=True)
    assert ordinary.rules.weight_baseline_change == solver.Rules().weight_baseline_change
    assert repair.rules.weight_fair_load * 100 < repair.rules.weight_baseline_change
    assert repair.rules.weight_baseline_change < repair.rules.weight_shortfall


def _run(small: SmallWorld) -> SolveRun:
    run = SolveRun(period_id=small.period.id, time_limit=5, status="running")
    db.session.add(run)
    db.session.commit()
    return run


def test_save_solution_writes_the_draft_with_unfilled_reasons(small: SmallWorld) -> None:
    problem, mapping = build_problem(small.period)
    solution = solver.solve(problem, time_limit=5, workers=1, seed=0)
    run = _run(small)
    saved = save_solution(run, solution, problem, mapping)
    db.session.commit()
    draft = db.session.get(Roster, saved.roster_id)
    assert draft is not None
    assert (draft.status, draft.version, draft.created_from_run_id) == ("draft", None, run.id)
    count = db.session.scalar(select(func.count()).where(Assignment.roster_id == draft.id))
    assert count == len(solution.assignments) > 0
    posts = list(db.session.scalars(select(UnfilledPost).where(UnfilledPost.roster_id == draft.id)))
    assert saved.unfilled == len(posts)
    assert saved.posts_filled == mapping.posts_total - sum(p.missing for p in posts)
    # Only the lead accepts nights: Monday night's code checker is missing, because the one
    # person who could is on that night's lead post or rests for the day shift after it.
    night = next(
        p
        for p in posts
        if (p.site_id, p.day, p.shift) == (small.checkpoint.id, MON, "night")
        and p.role.code == "code_checker"
    )
    codes = {r["code"] for r in night.reasons}
    assert codes
    assert codes <= {"busy_elsewhere", "rest"}
    for reason in night.reasons:
        assert set(reason.get("people", [])) <= {small.vid(n) for n in small.people}


def test_save_solution_refuses_a_roster_check_rejects(small: SmallWorld) -> None:
    problem, mapping = build_problem(small.period)
    # The untrained volunteer as a code checker: check reports not_qualified.
    bad = solver.Assignment(
        person=small.pid("untrained"),
        shift=shift_id(small.checkpoint.id, MON, "day"),
        role="code_checker",
    )
    solution = solver.solve(problem, time_limit=5, workers=1, seed=0)
    forged = replace(solution, assignments=(*solution.assignments, bad))
    run = _run(small)
    with pytest.raises(SolutionRejected, match="not qualified"):
        save_solution(run, forged, problem, mapping)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Roster)) == 0
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_save_solution_refuses_no_roster(small: SmallWorld) -> None:
    problem, mapping = build_problem(small.period)
    empty = solver.Solution(
        status="UNKNOWN",
        assignments=(),
        objective=None,
        bound=None,
        breakdown={},
        unfilled=(),
        wall_time=1.0,
    )
    with pytest.raises(PlanningError, match="time limit"):
        save_solution(_run(small), empty, problem, mapping)


def test_resolving_a_subset_keeps_pins_and_other_sites(small: SmallWorld) -> None:
    c, t = small.checkpoint, small.testing
    draft = _draft(
        small,
        [
            (c, MON, "day", "site_lead", "lead", True),
            (t, TUE, "day", "sampler", "nurse", False),
        ],
    )
    problem, mapping = build_problem(small.period, site_ids=[c.id])
    solution = solver.solve(problem, time_limit=5, workers=1, seed=0)
    save_solution(_run(small), solution, problem, mapping)
    db.session.commit()
    rows = {
        (a.site_id, a.day, a.shift, a.volunteer_id, a.pinned)
        for a in db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id))
    }
    assert (c.id, MON, "day", small.vid("lead"), True) in rows
    assert (t.id, TUE, "day", small.vid("nurse"), False) in rows
    assert db.session.scalar(select(func.count()).select_from(Roster)) == 1
