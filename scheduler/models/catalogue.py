"""The role catalogue (岗位) and the skills/qualifications a role may require."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model


class Skill(Model):
    """A skill a volunteer declares; a qualification only counts once a coordinator verifies it."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    is_qualification: Mapped[bool] = mapped_column(Boolean, default=False)


class Role(Model):
    """A post within a shift, e.g. site lead (点位长) or sampler (采样)."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    required_skill_id: Mapped[int | None] = mapped_column(
        ForeignKey("skills.id", ondelete="RESTRICT")
    )
    requires_training: Mapped[bool] = mapped_column(Boolean, default=False)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    required_skill: Mapped[Skill | None] = relationship()
