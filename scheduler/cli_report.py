"""What `flask solve` prints: the draft as plain text (presentation for the command line,
from the same review data and the same Jinja sentences as the review page)."""

from __future__ import annotations

from flask import get_template_attribute
from markupsafe import Markup

from scheduler.models import PlanningPeriod, SolveRun
from scheduler.services.rosters import review


def _plain(markup: object) -> str:
    return " ".join(str(markup).split())


def text_report(period: PlanningPeriod, run: SolveRun) -> str:
    """The draft as plain text for the command line: coverage, unfilled posts with their
    reasons (the same sentences as the page, in the current locale), fairness figures."""
    sentence = get_template_attribute("coordinator/_roster_reasons.html", "reason_sentence")
    label = get_template_attribute("coordinator/_roster_reasons.html", "shift_label")
    data = review(period)
    share = 100 * data.posts_filled / data.posts_total if data.posts_total else 100.0
    lines = [
        f"run {run.id}: {run.solver_status or run.status}, {run.elapsed:.1f} s, "
        f"objective {run.objective}, bound {run.bound}",
        f"coverage: {data.posts_filled} of {data.posts_total} posts filled ({share:.1f}%)",
        f"unfilled posts: {data.posts_unfilled} (on {len(data.unfilled)} roles of a shift)",
    ]
    fillable = data.posts_fillable
    if fillable is not None:
        lines.insert(
            2,
            f"fillable: {data.posts_filled} of the {fillable} fillable; "
            f"{data.posts_total - fillable} posts have nobody who can take them",
        )
    if data.surplus:
        lines.append(f"people above their post's head count: {data.surplus}")
    for post in data.unfilled:
        where = _plain(label(data.sites.get(post.site_id), post.day, post.shift))
        lines.append(f"  {where}, {data.roles[post.role_id].name_en}: {post.missing} missing")
        for reason in post.reasons:
            text = _plain(sentence(reason, data.names, data.sites, data.roles))
            lines.append(f"    - {Markup(text).unescape()}")
    fair = data.fairness
    lines.append(
        f"fairness: {fair.rostered} of {fair.offered} volunteers who offered time rostered"
    )
    lines.append("  shifts as a share of weekly cap over the period:")
    lines += [f"    {bucket:>8}  {count}" for bucket, count in fair.load_histogram]
    lines.append("  night shifts per volunteer who accepts nights:")
    lines += [f"    {nights:>8}  {count}" for nights, count in fair.nights_histogram]
    for title, people in (("most loaded", fair.most), ("least loaded", fair.least)):
        described = ", ".join(
            f"{p.name} {p.shifts} ({p.percent}%, {p.nights} nights, cap {p.weekly_cap}/week)"
            for p in people
        )
        lines.append(f"  {title}: {described or '-'}")
    return "\n".join(lines)
