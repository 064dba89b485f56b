"""Districts and work units: the lookup lists volunteers pick from (or add to) on sign-up."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.extensions import Model


class District(Model):
    """A city district (区县); sites and volunteers belong to one."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class WorkUnit(Model):
    """An organisation or grassroots union (工作单位 / 基层工会) that volunteers come from."""

    __tablename__ = "work_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
