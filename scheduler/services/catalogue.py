"""The default role catalogue from the product brief, created once and editable afterwards."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Role, Skill

# code, Chinese name, English name, is a qualification a coordinator must verify
DEFAULT_SKILLS = (
    ("leadership", "组织带队经验", "Team leading experience", False),
    ("medical", "医护资质", "Medical qualification", True),
    ("disinfection", "消杀操作", "Disinfection handling", False),
    ("driving", "驾驶", "Driving", False),
)

# code, Chinese name, English name, required skill code, requires training, is the lead
DEFAULT_ROLES = (
    ("site_lead", "点位长", "Site lead", "leadership", True, True),
    ("code_checker", "查验双码", "Code checker", None, True, False),
    ("temperature", "测温", "Temperature check", None, True, False),
    ("registrar", "扫码登记", "Registrar", None, False, False),
    ("queue_marshal", "秩序维护", "Queue marshal", None, False, False),
    ("sampler", "采样", "Sampler", "medical", True, False),
    ("disinfection", "消杀", "Disinfection", "disinfection", True, False),
    ("logistics", "物资保障", "Logistics", None, False, False),
)


def ensure_default_catalogue() -> None:
    """Create the default skills and roles that do not exist yet; never overwrite edits."""
    add_missing_defaults()
    db.session.commit()


def add_missing_defaults() -> list[Skill | Role]:
    """Add to the session the default skills and roles whose code is not taken yet (edited or
    deleted ones are left as they are) and return them, uncommitted."""
    skills = {s.code: s for s in db.session.scalars(select(Skill))}
    added: list[Skill | Role] = []
    for code, zh, en, qualification in DEFAULT_SKILLS:
        if code not in skills:
            skills[code] = Skill(code=code, name_zh=zh, name_en=en, is_qualification=qualification)
            added.append(skills[code])
    existing_roles = set(db.session.scalars(select(Role.code)))
    for order, (code, zh, en, skill, training, lead) in enumerate(DEFAULT_ROLES):
        if code not in existing_roles:
            added.append(
                Role(
                    code=code,
                    name_zh=zh,
                    name_en=en,
                    required_skill=skills[skill] if skill else None,
                    requires_training=training,
                    is_lead=lead,
                    sort_order=order,
                )
            )
    db.session.add_all(added)
    return added
