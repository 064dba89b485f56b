"""Flask commands: `flask --app wsgi <command>`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import ACCOUNT_ROLES, User
from scheduler.models.base import MAX_ID
from scheduler.models.planning import MAX_PERIOD_DAYS
from scheduler.services.accounts import AccountError, create_account
from scheduler.services.catalogue import ensure_default_catalogue
from scheduler.services.demo import PERIOD_DAYS
from scheduler.services.organisations import OrganisationError, appointment_node
from scheduler.services.phones import normalize_mobile


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(seed_catalogue)
    app.cli.add_command(seed_demo)
    app.cli.add_command(demo_logins)
    app.cli.add_command(solve)
    app.cli.add_command(worker)
    app.cli.add_command(send_notifications)
    app.cli.add_command(export_roster)
    app.cli.add_command(export_sheets)
    app.cli.add_command(retention_command)


@click.command("create-user")
@with_appcontext
@click.option("--role", type=click.Choice(ACCOUNT_ROLES), default="volunteer", show_default=True)
@click.option("--phone", required=True, help="Chinese mobile number, e.g. 13800138000")
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option(
    "--organisation",
    default=None,
    help="The union a coordinator or liaison works for (its name). Default for a coordinator: "
    "the city union when it is the only one.",
)
def create_user(role: str, phone: str, password: str, name: str, organisation: str | None) -> None:
    """Create an account (for the first coordinator or admin of a deployment)."""
    try:
        node = appointment_node(role, organisation)
        user = create_account(name=name, phone=phone, password=password, role=role, commit=False)
    except (AccountError, OrganisationError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    user.organisation_id = node.id if node is not None else None
    db.session.commit()
    where = f" of {node.name}" if node is not None else ""
    click.echo(f"created {user.role}{where} {user.name} ({user.phone})")


@click.command("seed-catalogue")
@with_appcontext
def seed_catalogue() -> None:
    """Create the default role catalogue (idempotent; never overwrites edits)."""
    ensure_default_catalogue()
    click.echo("role catalogue ready")


@click.command("seed-demo")
@with_appcontext
@click.option("--volunteers", default=300, show_default=True, type=click.IntRange(0, 20000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option(
    "--days",
    default=PERIOD_DAYS,
    show_default=True,
    type=click.IntRange(7, MAX_PERIOD_DAYS),
    help="Length of the demo's planning period in days.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed_demo(volunteers: int, seed: int, days: int, if_empty: bool) -> None:
    """Create a realistic Chinese demo: checkpoints, testing sites, work units, volunteers."""
    from scheduler.services.demo import seed_demo as build_demo

    if if_empty and db.session.scalar(select(func.count(User.id))):
        click.echo("database not empty: demo data left as it is")
        return
    summary = build_demo(volunteers=volunteers, seed=seed, district_period=True, days=days)
    click.echo(summary)


@click.command("demo-logins")
@with_appcontext
def demo_logins() -> None:
    """Print the demo accounts' logins (only those that exist)."""
    from scheduler.services.demo import DEMO_ACCOUNTS, DEMO_UNIONS

    click.echo("Demo logins (phone / password / union):")
    for role, phone, password, _name in DEMO_ACCOUNTS:
        if db.session.scalar(select(User.id).where(User.phone == normalize_mobile(phone))):
            click.echo(f"  {role:<12} {phone}  {password}  {DEMO_UNIONS.get(phone, '')}".rstrip())


@click.command("solve")
@with_appcontext
@click.option("--period", "period_id", required=True, type=int, help="Planning period id.")
@click.option(
    "--time-limit",
    default=30,
    show_default=True,
    type=click.IntRange(5, 600),
    help="Seconds the solver may search.",
)
@click.option("--publish", is_flag=True, help="Publish the new draft as the next version.")
def solve(period_id: int, time_limit: int, publish: bool) -> None:
    """Generate the period's draft roster now (same path as the web page) and print coverage,
    unfilled posts with their reasons, and fairness figures, in English; with --publish,
    publish it as the next numbered version (volunteers are notified through the outbox)."""
    from flask_babel import force_locale

    from scheduler import jobs
    from scheduler.cli_report import text_report
    from scheduler.models import PlanningPeriod, SolveRun
    from scheduler.services import rosters
    from scheduler.services.lookups import current_draft

    period = db.session.get(PlanningPeriod, period_id)
    if period is None:
        raise click.ClickException(f"no planning period with id {period_id}")
    with force_locale("en"):
        try:
            run = rosters.start_run(
                period, [s.id for s in rosters.active_sites(period)], time_limit, None
            )
        except rosters.RosterError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"solving {period.name} ({len(rosters.active_sites(period))} sites) ...")
        jobs.execute_run(run.id)
        db.session.expire_all()
        run = db.session.get_one(SolveRun, run.id)
        if run.status != "succeeded":
            raise click.ClickException(f"run {run.status}: {run.error or ''}")
        # The revision of the draft the report shows: publishing refuses a draft that
        # changed after it (a volunteer's cancellation, a hand edit).
        draft = current_draft(period.id)
        revision = draft.revision if draft is not None else None
        click.echo(text_report(period, run))
        if publish:
            from scheduler.services.publishing import PublishError
            from scheduler.services.publishing import publish as publish_draft

            try:
                version, changes = publish_draft(period, None, revision=revision)
            except PublishError as error:  # NothingChanged included: nothing new to publish
                db.session.rollback()
                raise click.ClickException(str(error)) from error
            db.session.commit()
            click.echo(
                f"published version {version.version}: {changes.added} posts added, "
                f"{changes.removed} removed, {len(changes.changes)} volunteers notified"
            )


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(["notify", "solve"]),
    help="Only these queues (default both; run a notify-only worker too so messages never "
    "wait behind a long solve).",
)
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an RQ worker (needs REDIS_URL) with RQ's scheduler: it delivers the message outbox
    every NOTIFY_LOOP_SECONDS (the "notify" queue) and takes solve runs ("solve")."""
    from flask import current_app
    from rq import Worker

    from scheduler.jobs import queue_for
    from scheduler.sending import ensure_delivery_chain, notify_queue_for

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: solve runs use the in-app thread")
    chosen = queues or ("notify", "solve")
    listen = []
    if "notify" in chosen:
        notify = notify_queue_for(current_app)
        ensure_delivery_chain(current_app, notify)
        listen.append(notify)
    if "solve" in chosen:
        listen.append(queue_for(current_app))
    Worker(listen, connection=listen[0].connection).work(burst=burst, with_scheduler=True)


@click.command("send-notifications")
@with_appcontext
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 10000))
def send_notifications(batch: int) -> None:
    """Deliver the notification outbox once (due messages only) with the configured sender;
    run it from cron or a loop. Failed messages are retried on a later run."""
    from flask import current_app

    from scheduler.services.delivery import deliver_pending
    from scheduler.services.senders import sender_from_config

    report = deliver_pending(sender_from_config(current_app.config), batch=batch)
    click.echo(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")


@click.command("export-roster")
@with_appcontext
@click.option(
    "--period", "period_id", required=True, type=click.IntRange(1, MAX_ID), help="Period id."
)
@click.option(
    "--version", type=click.IntRange(1, MAX_ID), help="Published version (default: the latest)."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write: CSV, or an XLSX workbook when the name ends in .xlsx.",
)
def export_roster(period_id: int, version: int | None, out: Path) -> None:
    """Write a period's published roster: one CSV row per assignment (UTF-8 with BOM; see
    scheduler.services.exports for the columns). The latest version leaves out cancelled
    shifts; an older --version is written as it was published. Writes nothing on error."""
    from scheduler.services import exports

    try:
        export = exports.roster_for_export(period_id, version)
    except exports.ExportError as error:
        raise click.ClickException(str(error)) from error
    xlsx = out.suffix.lower() == ".xlsx"
    data = exports.roster_xlsx(export) if xlsx else exports.roster_csv(export)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(data)
    partial.replace(out)  # a reader never sees half a file
    click.echo(
        f"wrote {len(export.rows)} assignments of {export.period.name}"
        f" version {export.version} to {out}"
    )


@click.command("export-sheets")
@with_appcontext
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, writable=True, path_type=Path),
    help="Folder for the PDFs (created when missing; see below for what is replaced).",
)
@click.option("--base-url", help="Where Muster is served, for the QR codes (PUBLIC_BASE_URL).")
@click.option("--lang", type=click.Choice(["zh_Hans", "en"]), help="Default: the app's.")
def export_sheets(day: datetime, out: Path, base_url: str | None, lang: str | None) -> None:
    """Write the day's sign-in sheets from the published roster: one PDF per site with people
    on duty ('<site id>-<name in pinyin>.pdf') and all of them in all.pdf.

    Nothing is half-written: the PDFs are made in a temporary folder next to --out and moved
    in only when all are done. Sheets of an earlier run in --out for sites with nobody on
    duty now are removed (only '<number>-....pdf' and all.pdf; other files stay), so the
    folder holds exactly the sheets of this day."""
    from flask import current_app
    from flask_babel import force_locale

    from scheduler.printing import export_signin_pdfs
    from scheduler.services.sheets import SheetError

    base_url = base_url or current_app.config.get("PUBLIC_BASE_URL")
    if not base_url:
        raise click.UsageError("set PUBLIC_BASE_URL or pass --base-url: the QR codes link there")
    if not base_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--base-url")
    try:
        paths = export_signin_pdfs(day.date(), out, base_url, lang)
    except SheetError as error:
        with force_locale("en"):
            raise click.ClickException(str(error)) from error
    click.echo(f"wrote {len(paths)} files to {out}")


@click.command("retention")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Only list who would be anonymised.")
@click.option(
    "--days",
    type=click.IntRange(0, 100000),
    help="Days after a period closed (default: the RETENTION_DAYS setting).",
)
def retention_command(dry_run: bool, days: int | None) -> None:
    """Anonymise the volunteers of periods closed RETENTION_DAYS ago who have no later period
    (see scheduler.services.retention). Idempotent; each volunteer is recorded in the audit
    log. Run it daily (cron) or by hand with --dry-run first."""
    from scheduler.services import retention

    outcome = retention.run(days=days, dry_run=dry_run)
    click.echo(f"cutoff: periods closed on or before {outcome.cutoff:%Y-%m-%d %H:%M} UTC")
    if not outcome.retired_periods:
        click.echo("no period was closed that long ago: nothing to do")
        return
    for period in outcome.retired_periods:
        assert period.closed_at is not None
        click.echo(f"period {period.id} {period.name}: closed {period.closed_at:%Y-%m-%d}")
    verb = "would anonymise" if dry_run else "anonymised"
    click.echo(f"{verb} {len(outcome.due)} volunteer(s)")
    for item in outcome.due:
        # The real run's output (a cron mail, a log) does not repeat the names it removed.
        who = f"{item.name} {item.phone} " if dry_run else ""
        click.echo(
            f"  volunteer {item.volunteer_id} (account {item.user_id}) {who}"
            f"{item.work_unit or '-'} {item.district or '-'}"
        )
