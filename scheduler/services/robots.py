"""Group chat robots: each site may name a WeCom (企业微信) or DingTalk (钉钉) group robot, and
every published version that changes the site's shifts posts the site's shift list there.

`queue_site_rosters` writes one `RobotMessage` per such site into the publish transaction
(the outbox: a rolled-back publish leaves none); services.delivery sends them with the
notifications, retrying with the same back-off. `render_site_roster` builds the markdown when
it is sent, in the deployment's language, phone numbers masked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_skeleton
from flask import current_app
from flask_babel import get_locale, gettext
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.i18n import localized_name
from scheduler.labels import SHIFT_LABELS
from scheduler.models import Assignment, Role, Roster, Site, UnfilledPost, User, Volunteer
from scheduler.models.notifications import RobotMessage
from scheduler.models.sites import ROBOT_KINDS, SHIFT_KINDS
from scheduler.services.errors import ServiceError
from scheduler.services.phones import mask
from scheduler.services.senders import ROBOT_HOSTS, ROBOT_MAX_BYTES

__all__ = [
    "ROSTER_PUBLISHED",
    "RobotError",
    "check_robot",
    "queue_site_rosters",
    "render_site_roster",
]

ROSTER_PUBLISHED = "roster_published"
MAX_URL_LENGTH = 500
MAX_SECRET_LENGTH = 200


class RobotError(ServiceError):
    """Why a site's robot settings cannot be saved."""


def check_robot(
    kind: str | None, url: str | None, secret: str | None, allow_any_url: bool
) -> tuple[str | None, str | None, str | None]:
    """The cleaned (kind, url, secret) of a site's robot, all None when no URL is given.
    The URL must be an https URL on the robot's own host (qyapi.weixin.qq.com,
    oapi.dingtalk.com) unless `allow_any_url` (tests, a self-hosted relay). Raises
    RobotError naming the field."""
    url = (url or "").strip()
    secret = (secret or "").strip()
    if not url:
        return None, None, None
    if kind not in ROBOT_KINDS:
        raise RobotError(_l("Choose WeCom or DingTalk for the group robot."), "robot_kind")
    if len(url) > MAX_URL_LENGTH:
        raise RobotError(
            _l("The robot's address is at most %(n)d characters.", n=MAX_URL_LENGTH), "robot_url"
        )
    parts = urlsplit(url)
    host = ROBOT_HOSTS[kind]
    if allow_any_url:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RobotError(_l("Enter the robot's webhook address (http or https)."), "robot_url")
    elif parts.scheme != "https" or parts.hostname != host:
        raise RobotError(
            _l("Paste the robot's webhook address: it starts with https://%(host)s/", host=host),
            "robot_url",
        )
    if secret and kind != "dingtalk":
        raise RobotError(_l("Only DingTalk robots have a signing secret."), "robot_secret")
    if len(secret) > MAX_SECRET_LENGTH:
        raise RobotError(
            _l("The secret is at most %(n)d characters.", n=MAX_SECRET_LENGTH), "robot_secret"
        )
    return kind, url, secret or None


def queue_site_rosters(version: Roster, site_ids: Iterable[int]) -> list[RobotMessage]:
    """Queue the shift list of `version` for each of `site_ids` that has a robot (in the
    caller's transaction: the publish and its robot messages commit or roll back together)."""
    wanted = set(site_ids)
    if not wanted:
        return []
    sites = db.session.scalars(
        select(Site).where(Site.id.in_(wanted), Site.robot_url.is_not(None)).order_by(Site.id)
    )
    messages = [
        RobotMessage(site_id=site.id, roster_id=version.id, kind=ROSTER_PUBLISHED) for site in sites
    ]
    db.session.add_all(messages)
    return messages


def _fit(lines: list[str], footer: Callable[[int], str], limit: int) -> str:
    """The lines joined, cut before the UTF-8 byte `limit` with footer(n) (n lines left out)."""
    text = "\n".join(lines)
    if len(text.encode()) <= limit:
        return text
    kept: list[str] = []
    size = 0
    for line in lines:
        size += len(line.encode()) + 1
        if size > limit - 300:  # room for the footer
            break
        kept.append(line)
    return "\n".join([*kept, footer(len(lines) - len(kept))])


def render_site_roster(message: RobotMessage) -> tuple[str, str]:
    """(title, markdown) of a site's shift list in one published version, in the current
    locale: per day and shift, each role's people (name and masked phone) and the posts still
    open. Cut to what the site's robot accepts, with a pointer to Muster for the rest."""
    site = message.site
    roster = db.session.get(Roster, message.roster_id)
    if roster is None:
        raise LookupError(f"roster {message.roster_id} is gone")
    people: dict[tuple[Any, str, int], list[str]] = defaultdict(list)
    for day, shift, role_id, name, phone in db.session.execute(
        select(Assignment.day, Assignment.shift, Assignment.role_id, User.name, User.phone)
        .join(Volunteer, Volunteer.id == Assignment.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .where(Assignment.roster_id == roster.id, Assignment.site_id == site.id)
        .order_by(User.name_pinyin, User.name, User.id)
    ):
        people[(day, shift, role_id)].append(f"{name} {mask(phone)}")
    missing: dict[tuple[Any, str, int], int] = defaultdict(int)
    for post in db.session.scalars(
        select(UnfilledPost).where(
            UnfilledPost.roster_id == roster.id, UnfilledPost.site_id == site.id
        )
    ):
        missing[(post.day, post.shift, post.role_id)] += post.missing
    roles = {r.id: r for r in db.session.scalars(select(Role))}
    order = {r.id: (r.sort_order, r.id) for r in roles.values()}
    title = gettext(
        "%(site)s: shifts of %(period)s, version %(number)d",
        site=site.name,
        period=roster.period.name,
        number=roster.version or 0,
    )
    lines = [f"### {title}"]
    slots = sorted(
        {(day, shift) for day, shift, _ in (*people, *missing)},
        key=lambda s: (s[0], SHIFT_KINDS.index(s[1])),
    )
    locale = str(get_locale())
    colon = "：" if locale.startswith("zh") else ": "
    for day, shift in slots:
        heading = " ".join(
            (
                format_skeleton("MMMdEEE", day, locale=locale),
                str(SHIFT_LABELS.get(shift, shift)),
                site.shift_span(day, shift),
            )
        )
        lines.append(f"**{heading}**")
        role_ids = sorted(
            {r for d, s, r in (*people, *missing) if (d, s) == (day, shift)},
            key=lambda r: order.get(r, (0, r)),
        )
        for role_id in role_ids:
            role = roles.get(role_id)
            names = "、".join(people.get((day, shift, role_id), []))
            open_posts = missing.get((day, shift, role_id), 0)
            if open_posts:
                gap = gettext("%(n)d open", n=open_posts)
                names = f"{names} **{gap}**" if names else f"**{gap}**"
            lines.append(f"> {localized_name(role) if role else role_id}{colon}{names}")
    base = current_app.config.get("PUBLIC_BASE_URL")
    link = f" {base.rstrip('/')}/" if base else ""

    def footer(n: int) -> str:
        return "…… " + gettext("%(n)d more lines: see the full roster in Muster.", n=n) + link

    limit = ROBOT_MAX_BYTES.get(site.robot_kind or "", min(ROBOT_MAX_BYTES.values()))
    return title, _fit(lines, footer, limit)
