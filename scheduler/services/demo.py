"""A realistic demo in Chinese: Nantong's highway checkpoints and community testing sites, the
unions whose members staff them, and a pool of volunteers with varied availability.

Everything is drawn from `random.Random(seed)`, so the same seed gives the same people, phones
and availability. The only thing that depends on the calendar is the planning period: the two
weeks from next Monday, so the demo is usable whenever it is run (availability is stored per
day offset into that period, so it repeats exactly).

The unions form the tree of issue 13: the city union (its coordinator sees everything), three
district unions each with its own coordinator, and company and hospital unions under their
districts, three of them with a liaison. With `district_period`, 崇川区 also runs a period of
its own (the fortnight after the city's), which only its coordinator and the city's see; it
is opened to the neighbouring 通州区's volunteers (reinforcement), whose members offer time in it
too.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select

from scheduler.extensions import db
from scheduler.models import (
    ADMIN,
    CITY,
    COORDINATOR,
    GRASSROOTS,
    LIAISON,
    SITE_LEAD,
    VOLUNTEER,
    Availability,
    DayOff,
    Demand,
    District,
    Organisation,
    PlanningPeriod,
    Role,
    Site,
    Skill,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.accounts import hash_password, name_sort_key
from scheduler.models.base import utcnow
from scheduler.models.sites import SHIFT_KINDS
from scheduler.services.availability import DEFAULT_STARTS, kind_of_start, site_starts
from scheduler.services.catalogue import ensure_default_catalogue
from scheduler.services.phones import InvalidPhone, normalize_mobile

# role, phone, password, name — printed by `flask demo-logins`.
DEMO_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    (ADMIN, "13912340001", "muster-demo-1", "王建国"),
    (COORDINATOR, "13912340002", "muster-demo-2", "李晓梅"),
    (SITE_LEAD, "13912340003", "muster-demo-3", "侯志强"),
    (VOLUNTEER, "13912340004", "muster-demo-4", "陈静"),
    (COORDINATOR, "13912340005", "muster-demo-5", "周海燕"),
    (COORDINATOR, "13912340006", "muster-demo-6", "吴国平"),
    (COORDINATOR, "13912340007", "muster-demo-7", "徐丽华"),
    (LIAISON, "13912340008", "muster-demo-8", "朱永红"),
    (LIAISON, "13912340009", "muster-demo-9", "郑晓东"),
    (LIAISON, "13912340010", "muster-demo-10", "马春燕"),
)
CITY_UNION = "南通市总工会"
# The union each demo coordinator and liaison is appointed to (phone -> union name; the city
# coordinator is the city union's). Printed by `flask demo-logins`.
DEMO_UNIONS: dict[str, str] = {
    "13912340002": CITY_UNION,
    "13912340005": "崇川区",
    "13912340006": "通州区",
    "13912340007": "海门区",
    "13912340008": "国网南通供电公司工会",
    "13912340009": "南通大学附属医院工会",
    "13912340010": "林森物流集团工会",
}
# The district each company's or hospital's union sits under; its members live there too.
# The district unions' own staff (崇川区总工会, ...) have no grassroots union of their own:
# they belong to their district's union.
UNIT_DISTRICTS: dict[str, str] = {
    "国网南通供电公司工会": "崇川区",
    "南通大学工会": "崇川区",
    "南通大学附属医院工会": "崇川区",
    "江苏银行南通分行工会": "崇川区",
    "中天科技工会": "如东县",
    "林森物流集团工会": "通州区",
    "南通中远海运川崎工会": "开发区",
}
DISTRICT_PERIOD = ("崇川区", "崇川区第二期")
# The neighbouring district 崇川区's own period also draws on (reinforcement, issue 13).
REINFORCING_DISTRICT = "通州区"
PERIOD_DAYS = 14

DISTRICTS: tuple[tuple[str, float], ...] = (
    ("崇川区", 0.34),
    ("通州区", 0.15),
    ("海门区", 0.12),
    ("如皋市", 0.12),
    ("如东县", 0.10),
    ("启东市", 0.10),
    ("开发区", 0.07),
)

WORK_UNITS: tuple[tuple[str, float], ...] = (
    ("南通市总工会", 0.10),
    ("崇川区总工会", 0.10),
    ("通州区总工会", 0.07),
    ("海门区总工会", 0.06),
    ("如皋市总工会", 0.06),
    ("启东市总工会", 0.05),
    ("开发区总工会", 0.05),
    ("国网南通供电公司工会", 0.12),
    ("南通大学工会", 0.10),
    ("南通大学附属医院工会", 0.06),
    ("中天科技工会", 0.09),
    ("林森物流集团工会", 0.05),
    ("江苏银行南通分行工会", 0.05),
    ("南通中远海运川崎工会", 0.04),
)

CHECKPOINT_DEMAND = {"site_lead": 1, "code_checker": 2, "temperature": 1, "registrar": 1}
TESTING_DEMAND = {
    "day": {"site_lead": 1, "sampler": 2, "registrar": 2, "queue_marshal": 2},
    "evening": {"site_lead": 1, "sampler": 1, "registrar": 1, "queue_marshal": 1},
}

# name, address, district
CHECKPOINTS: tuple[tuple[str, str, str], ...] = (
    ("南通北高速卡口", "沈海高速南通北收费站出口", "崇川区"),
    ("小海高速卡口", "沪陕高速小海收费站出口", "开发区"),
    ("S28如东出口卡口", "S28启扬高速如东收费站出口", "如东县"),
    ("G40如皋港出口卡口", "G40沪陕高速如皋港收费站出口", "如皋市"),
)
TESTING_SITES: tuple[tuple[str, str, str], ...] = (
    ("百花村社区核酸检测点", "钟秀街道百花村社区服务中心广场", "崇川区"),
    ("城南社区核酸检测点", "城南社区居委会门前停车场", "崇川区"),
    ("皇家花园核酸检测点", "秦灶街道皇家花园小区南门", "崇川区"),
    ("兴东街道核酸检测点", "兴东街道社区卫生服务中心", "通州区"),
    ("海门街道核酸检测点", "海门街道文化广场", "海门区"),
    ("汇龙镇核酸检测点", "汇龙镇人民路社区活动中心", "启东市"),
)
TESTING_FIRST_SHIFT_HOUR = 23  # testing sites run 07:00–15:00 and 15:00–23:00

SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.2),
    ("赵", 2.0), ("吴", 2.0), ("周", 1.9), ("徐", 1.7), ("孙", 1.5), ("马", 1.3), ("朱", 1.3),
    ("胡", 1.2), ("郭", 1.1), ("何", 1.1), ("高", 1.1), ("林", 1.0), ("罗", 0.9), ("郑", 0.9),
    ("梁", 0.9), ("谢", 0.8), ("宋", 0.8), ("唐", 0.8), ("许", 0.7), ("韩", 0.7), ("冯", 0.7),
    ("邓", 0.7), ("曹", 0.7), ("彭", 0.6), ("曾", 0.6), ("肖", 0.6), ("田", 0.6), ("董", 0.5),
    ("袁", 0.5), ("潘", 0.5), ("于", 0.5), ("蒋", 0.5), ("蔡", 0.5), ("余", 0.5), ("杜", 0.5),
    ("叶", 0.5), ("程", 0.5), ("苏", 0.4), ("魏", 0.4), ("吕", 0.4), ("丁", 0.4), ("任", 0.4),
    ("沈", 0.6), ("姚", 0.4), ("卢", 0.4), ("姜", 0.4), ("崔", 0.4), ("钟", 0.4), ("陆", 0.6),
    ("顾", 0.6), ("施", 0.4), ("季", 0.3), ("缪", 0.3), ("葛", 0.3), ("瞿", 0.2), ("冒", 0.1),
    ("范", 0.3), ("汪", 0.3), ("金", 0.3), ("石", 0.3), ("钱", 0.3), ("严", 0.2), ("欧阳", 0.05),
)  # fmt: skip
GIVEN_MALE = tuple(
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳志国海峰亮文晨博东成立荣新"
)
GIVEN_FEMALE = tuple("芳娜敏静丽艳娟霞秀玲桂英萍婷雪慧琳洁燕红梅莉兰颖倩晶欣悦佳怡雯璐蓉")
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181",
    "182", "183", "185", "186", "187", "188", "189", "198", "199",
)  # fmt: skip

# availability pattern -> share of volunteers
PATTERNS: tuple[tuple[str, float], ...] = (
    ("weekday_evenings", 0.30),
    ("weekends", 0.20),
    ("full_time", 0.20),
    ("night_owl", 0.10),
    ("mixed", 0.20),
)
SKILL_SHARES = {"leadership": 0.15, "medical": 0.12, "disinfection": 0.10, "driving": 0.18}
MEDICAL_VERIFIED_SHARE = 0.8
TRAINED_SHARE = 0.85
NIGHTS_SHARE = 0.40
PARTNER_SHARE = 0.06
DAY_OFF_SHARE = 0.20
EMERGENCY_SHARE = 0.75


@dataclass
class _Person:
    name: str
    phone: str
    work_unit: str
    district: str
    skills: list[str]
    medical_verified: bool
    trained: bool
    accepts_nights: bool
    weekly_cap: int
    pattern: str
    emergency_name: str | None
    emergency_phone: str | None
    partner_phone: str | None = None
    days_off: list[int] = field(default_factory=list)
    cells: list[tuple[int, str]] = field(default_factory=list)  # (day offset, shift kind)


def next_monday(today: date) -> date:
    """The first Monday strictly after `today`: the period starts in the coming week."""
    return today + timedelta(days=7 - today.weekday())


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _name(rng: random.Random) -> str:
    surname = _weighted(rng, SURNAMES)
    pool = GIVEN_MALE if rng.random() < 0.5 else GIVEN_FEMALE
    length = 2 if rng.random() < 0.7 else 1
    return surname + "".join(rng.choice(pool) for _ in range(length))


def _mobile(rng: random.Random) -> str:
    while True:
        raw = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        try:
            return normalize_mobile(raw)
        except InvalidPhone:
            continue


def _availability(
    rng: random.Random, pattern: str, nights: bool, days: int = PERIOD_DAYS
) -> list[tuple[int, str]]:
    """Cells (day offset from the Monday the period starts, shift) for one volunteer."""
    cells: list[tuple[int, str]] = []
    for day in range(days):
        weekend = day % 7 >= 5
        chances = {"night": 0.0, "day": 0.0, "evening": 0.0}
        if pattern == "weekday_evenings":
            chances = {
                "night": 0.0,
                "day": 0.4 if weekend else 0.0,
                "evening": 0.0 if weekend else 0.75,
            }
        elif pattern == "weekends":
            chances = {"night": 0.2 if weekend else 0.0, "day": 0.9 if weekend else 0.0,
                       "evening": 0.5 if weekend else 0.0}  # fmt: skip
        elif pattern == "full_time":
            chances = {"night": 0.3, "day": 0.85, "evening": 0.3}
        elif pattern == "night_owl":
            chances = {"night": 0.6, "day": 0.0, "evening": 0.25}
        else:
            chances = {"night": 0.25, "day": 0.25, "evening": 0.25}
        for shift in ("night", "day", "evening"):
            if shift == "night" and not nights:
                continue
            if rng.random() < chances[shift]:
                cells.append((day, shift))
    return cells


def _person(rng: random.Random, taken: set[str]) -> _Person:
    phone = _mobile(rng)
    while phone in taken:
        phone = _mobile(rng)
    taken.add(phone)
    skills = [code for code, share in SKILL_SHARES.items() if rng.random() < share]
    nights = rng.random() < NIGHTS_SHARE
    pattern = _weighted(rng, PATTERNS)
    if pattern == "night_owl" and not nights:
        pattern = "mixed"
    has_emergency = rng.random() < EMERGENCY_SHARE
    return _Person(
        name=_name(rng),
        phone=phone,
        work_unit=_weighted(rng, WORK_UNITS),
        district=_weighted(rng, DISTRICTS),
        skills=skills,
        medical_verified=rng.random() < MEDICAL_VERIFIED_SHARE,
        trained="leadership" in skills or rng.random() < TRAINED_SHARE,
        accepts_nights=nights,
        weekly_cap=rng.choices((3, 4, 5), weights=(3, 4, 3))[0],
        pattern=pattern,
        emergency_name=_name(rng) if has_emergency else None,
        emergency_phone=_mobile(rng) if has_emergency else None,
    )


def _people(
    rng: random.Random, count: int, taken: set[str], days: int = PERIOD_DAYS
) -> list[_Person]:
    people: list[_Person] = []
    while len(people) < count:
        person = _person(rng, taken)
        person.cells = _availability(rng, person.pattern, person.accepts_nights, days)
        people.append(person)
        # Couples and colleagues sign up together: same unit, same times, each names the other.
        if len(people) < count and rng.random() < PARTNER_SHARE:
            partner = _person(rng, taken)
            partner.work_unit = person.work_unit
            partner.district = person.district
            partner.accepts_nights = person.accepts_nights
            partner.pattern = person.pattern
            partner.cells = list(person.cells)
            partner.partner_phone, person.partner_phone = person.phone, partner.phone
            people.append(partner)
    for person in people:
        if rng.random() < DAY_OFF_SHARE:
            person.days_off = sorted(rng.sample(range(days), rng.randint(1, 3)))
            person.cells = [c for c in person.cells if c[0] not in person.days_off]
    return people


def _get_or_create_named(model: Any, names: Sequence[str]) -> dict[str, Any]:
    existing = {row.name: row for row in db.session.scalars(select(model))}
    for name in names:
        if name not in existing:
            existing[name] = model(name=name)
            db.session.add(existing[name])
    db.session.flush()
    return existing


def _sites(districts: dict[str, District], roles: dict[str, Role]) -> list[Site]:
    existing = {s.name: s for s in db.session.scalars(select(Site))}
    sites: list[Site] = []
    for name, address, district in CHECKPOINTS:
        site = existing.get(name)
        if site is None:
            site = Site(name=name, kind="checkpoint", address=address, district=districts[district])
            for shift in ("night", "day", "evening"):
                for code, count in CHECKPOINT_DEMAND.items():
                    site.demands.append(Demand(shift=shift, role=roles[code], headcount=count))
            db.session.add(site)
        sites.append(site)
    for name, address, district in TESTING_SITES:
        site = existing.get(name)
        if site is None:
            site = Site(
                name=name,
                kind="testing",
                address=address,
                district=districts[district],
                first_shift_hour=TESTING_FIRST_SHIFT_HOUR,
                runs_night=False,
            )
            for shift, demand in TESTING_DEMAND.items():
                for code, count in demand.items():
                    site.demands.append(Demand(shift=shift, role=roles[code], headcount=count))
            db.session.add(site)
        sites.append(site)
    db.session.flush()
    return sites


def _tree(districts: dict[str, District], units: dict[str, WorkUnit]) -> Organisation:
    """The city union (created when there is no tree yet), a node per district (the flush hook
    gives each new district one) and the grassroots unions of UNIT_DISTRICTS."""
    root = db.session.scalar(select(Organisation).where(Organisation.parent_id.is_(None)))
    if root is None:
        root = Organisation(kind=CITY, name=CITY_UNION)
        db.session.add(root)
        db.session.flush()
    for district in districts.values():
        if district.organisation_id is None:
            district.organisation = Organisation(kind="district", name=district.name, parent=root)
    db.session.flush()
    for name, home in UNIT_DISTRICTS.items():
        unit = units[name]
        if unit.organisation_id is None:
            unit.organisation = Organisation(
                kind=GRASSROOTS, name=name, parent_id=districts[home].organisation_id
            )
    db.session.flush()
    return root


def seed_demo(
    volunteers: int,
    seed: int,
    today: date | None = None,
    district_period: bool = False,
    days: int = PERIOD_DAYS,
) -> str:
    """Create the demo and return a one-line summary. On an empty database the result is the
    same for the same seed. Sites, districts, units, the period and the demo accounts are
    reused when they already exist; the generated volunteers are always added (with phones
    not yet taken), so a second run grows the pool. `today` fixes the period in tests; `days`
    is the city period's length (an outbreak's checkpoint duty lasts months)."""
    rng = random.Random(seed)
    ensure_default_catalogue()
    roles = {r.code: r for r in db.session.scalars(select(Role))}
    skills = {s.code: s for s in db.session.scalars(select(Skill))}
    if db.session.scalar(select(Organisation.id).where(Organisation.parent_id.is_(None))) is None:
        db.session.add(Organisation(kind=CITY, name=CITY_UNION))
        db.session.flush()  # new districts get their node under it on flush
    districts = _get_or_create_named(District, [name for name, _ in DISTRICTS])
    units = _get_or_create_named(WorkUnit, [name for name, _ in WORK_UNITS])
    root = _tree(districts, units)
    nodes = {n.name: n.id for n in db.session.scalars(select(Organisation))}
    nodes[CITY_UNION] = root.id
    sites = _sites(districts, roles)

    start = next_monday(today or date.today())
    end = start + timedelta(days=days - 1)
    # The name without its dates: every page shows a period's dates next to its name.
    period_name = "第一期"
    period = db.session.scalar(
        select(PlanningPeriod).where(
            PlanningPeriod.name == period_name,
            PlanningPeriod.start_date == start,
            PlanningPeriod.end_date == end,
        )
    )
    if period is None:
        period = PlanningPeriod(
            name=period_name,
            start_date=start,
            end_date=end,
            is_open=True,
            sites=sites,
            organisation_id=root.id,
        )
        db.session.add(period)
    own_district, own_name = DISTRICT_PERIOD
    own_start = end + timedelta(days=1)
    if district_period and not db.session.scalar(
        select(PlanningPeriod.id).where(
            PlanningPeriod.name == own_name, PlanningPeriod.start_date == own_start
        )
    ):
        db.session.add(
            PlanningPeriod(
                name=own_name,
                start_date=own_start,
                end_date=own_start + timedelta(days=PERIOD_DAYS - 1),
                is_open=True,
                sites=[s for s in sites if s.district_id == districts[own_district].id],
                organisation_id=districts[own_district].organisation_id,
                reinforcements=[
                    db.session.get_one(
                        Organisation, districts[REINFORCING_DISTRICT].organisation_id
                    )
                ],
            )
        )

    taken = set(db.session.scalars(select(User.phone)))
    now = utcnow()
    # Password hashing is deliberately slow (~0.1 s each), so one hash of the demo volunteer's
    # password is computed once and shared by every generated volunteer: all of them can log in
    # with that password, and 3,000 volunteers take seconds instead of minutes.
    volunteer_password = next(p for role, _ph, p, _n in DEMO_ACCOUNTS if role == VOLUNTEER)
    shared_hash = hash_password(volunteer_password)

    people: list[tuple[str, _Person | None]] = []  # (role, person or None for staff)
    account_rows: list[dict[str, Any]] = []
    for role, raw_phone, password, name in DEMO_ACCOUNTS:
        phone = normalize_mobile(raw_phone)
        if phone in taken:
            continue
        taken.add(phone)
        person = None
        if role in (VOLUNTEER, SITE_LEAD):
            lead = role == SITE_LEAD
            person = _Person(
                name=name,
                phone=phone,
                work_unit=WORK_UNITS[0][0] if lead else "国网南通供电公司工会",
                district="崇川区",
                skills=["leadership"] if lead else ["driving"],
                medical_verified=False,
                trained=True,
                accepts_nights=lead,
                weekly_cap=5 if lead else 4,
                pattern="full_time" if lead else "weekday_evenings",
                emergency_name="陈建华" if not lead else "侯敏",
                emergency_phone=normalize_mobile("13912349999"),
            )
            person.cells = _availability(rng, person.pattern, person.accepts_nights, days)
        people.append((role, person))
        account_rows.append(
            {
                "phone": phone,
                "name": name,
                "name_pinyin": name_sort_key(name),
                "password_hash": shared_hash
                if password == volunteer_password
                else hash_password(password),
                "role": role,
                "active": True,
                "created_at": now,
                "organisation_id": nodes.get(DEMO_UNIONS.get(raw_phone, "")),
            }
        )
    for person in _people(rng, volunteers, taken, days):
        person.district = UNIT_DISTRICTS.get(person.work_unit, person.district)
        people.append((VOLUNTEER, person))
        account_rows.append(
            {
                "phone": person.phone,
                "name": person.name,
                "name_pinyin": name_sort_key(person.name),
                "password_hash": shared_hash,
                "role": VOLUNTEER,
                "active": True,
                "created_at": now,
                "organisation_id": None,
            }
        )

    user_ids = (
        db.session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True), account_rows
        )
        .scalars()
        .all()
        if account_rows
        else []
    )
    serving = [(uid, p) for uid, (_role, p) in zip(user_ids, people, strict=True) if p is not None]
    volunteer_rows = [
        {
            "user_id": uid,
            "work_unit_id": units[p.work_unit].id,
            "district_id": districts[p.district].id,
            # Bulk inserts pass no flush hook: the node as models.tree_sync would set it.
            "organisation_id": units[p.work_unit].organisation_id
            or districts[p.district].organisation_id,
            "accepts_nights": p.accepts_nights,
            "weekly_cap": p.weekly_cap,
            "partner_phone": p.partner_phone,
            "emergency_name": p.emergency_name,
            "emergency_phone": p.emergency_phone,
            "consented_at": now,
            "trained_at": now if p.trained else None,
        }
        for uid, p in serving
    ]
    volunteer_ids = (
        db.session.execute(
            insert(Volunteer).returning(Volunteer.id, sort_by_parameter_order=True), volunteer_rows
        )
        .scalars()
        .all()
        if volunteer_rows
        else []
    )
    # A volunteer free for a kind of shift taps every span of that kind the sites run (白班
    # 07:00–15:00 and 08:00–16:00): the hours they offer are the union, 07:00–16:00.
    starts_of: dict[str, list[int]] = {
        kind: sorted(
            {h for site in sites for h in site_starts(site) if kind_of_start(h) == kind}
            or {h for h in DEFAULT_STARTS if kind_of_start(h) == kind}
        )
        for kind in SHIFT_KINDS
    }
    skill_rows: list[dict[str, Any]] = []
    cell_rows: list[dict[str, Any]] = []
    day_off_rows: list[dict[str, Any]] = []
    for vid, (_uid, p) in zip(volunteer_ids, serving, strict=True):
        for code in p.skills:
            verified = not skills[code].is_qualification or p.medical_verified
            skill_rows.append(
                {
                    "volunteer_id": vid,
                    "skill_id": skills[code].id,
                    "verified_at": now if verified and skills[code].is_qualification else None,
                }
            )
        # 崇川区's own period follows the city's: its members offer the same pattern again.
        # So do 通州区's, whom that period also draws on.
        drawn_on = (own_district, REINFORCING_DISTRICT)
        again = (0, days) if district_period and p.district in drawn_on else (0,)
        cell_rows.extend(
            {"volunteer_id": vid, "day": start + timedelta(days=d + shift), "start_hour": hour}
            for shift in again
            for d, kind in p.cells
            if not shift or d < PERIOD_DAYS
            for hour in starts_of[kind]
        )
        day_off_rows.extend(
            {"volunteer_id": vid, "day": start + timedelta(days=d)} for d in p.days_off
        )
    for model, rows in (
        (VolunteerSkill, skill_rows),
        (Availability, cell_rows),
        (DayOff, day_off_rows),
    ):
        if rows:
            db.session.execute(insert(model), rows)
    db.session.commit()

    checkpoints = sum(1 for s in sites if s.kind == "checkpoint")
    return (
        f"demo ready: {len(sites)} sites ({checkpoints} highway checkpoints, "
        f"{len(sites) - checkpoints} testing sites), {len(districts)} districts, "
        f"{len(units)} work units, {len(serving)} volunteers with {len(cell_rows)} availability "
        f"cells, period {period.name} ({start.isoformat()} to {end.isoformat()}); "
        f"generated volunteers log in with password {volunteer_password}; "
        f"see `flask --app wsgi demo-logins`"
    )
