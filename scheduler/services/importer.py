"""Importing a work unit's list of volunteers from CSV or XLSX.

Unions hand over lists of a hundred-odd names as spreadsheets: Excel exports in GBK, UTF-8 with
or without a BOM, Chinese or English headers, phone numbers stored as numbers, a title row above
the header. The import runs in two steps:

1. `preview_import(data, filename, default_work_unit)` reads the bytes, maps the headers and
   checks every row (pure functions `read_table` and `check_rows`, plus a few lookups in the
   database), so the coordinator sees each bad row with its reasons before anything is written.
2. `write_import(preview)` writes every valid row in one transaction. A unique-phone clash lost to
   a concurrent registration rolls the whole batch back.

Between the two steps the uploaded bytes are kept in a file under the instance folder
(`store_upload` / `load_upload`), not in the session (a cookie is limited to ~4 KB) and not in a
table (no schema change for a short-lived blob, and the file is simply deleted once imported).
The confirm step re-reads and re-checks the file, so nothing that changed in between (a phone
registered meanwhile, a skill renamed) slips through.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import secrets
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import LazyString
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    GRASSROOTS,
    VOLUNTEER,
    District,
    Organisation,
    Skill,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.accounts import IMPORTED_PASSWORD_HASH
from scheduler.models.base import utcnow
from scheduler.services import audit, scope
from scheduler.services.claims import ClaimSlip, assign_code
from scheduler.services.errors import ServiceError
from scheduler.services.phones import InvalidPhone, national, normalize_mobile

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
MAX_NAME_LENGTH = 50
MAX_WORK_UNIT_LENGTH = 100
MAX_DISTRICT_LENGTH = 60
MAX_EMERGENCY_NAME_LENGTH = 50
MAX_CELL_LENGTH = 500
DEFAULT_WEEKLY_CAP = 5
MIN_WEEKLY_CAP, MAX_WEEKLY_CAP = 1, 7
MAX_COLUMNS = 60
HEADER_SEARCH_ROWS = 10  # a title row ("某某工会志愿者名单") often sits above the header
UPLOAD_MAX_AGE_SECONDS = 24 * 3600

FIELDS = (
    "name",
    "phone",
    "work_unit",
    "district",
    "skills",
    "nights",
    "weekly_cap",
    "emergency_name",
    "emergency_phone",
)
REQUIRED_FIELDS = ("name", "phone")

# Header spellings seen in union spreadsheets; compared after `_normalise_header`.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "志愿者姓名", "name", "full name"),
    "phone": (
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "电话号码",
        "联系电话",
        "联系方式",
        "phone",
        "mobile",
        "mobile phone",
        "phone number",
        "tel",
    ),
    "work_unit": (
        "工作单位",
        "单位",
        "所在单位",
        "基层工会",
        "work_unit",
        "work unit",
        "unit",
        "organisation",
        "organization",
    ),
    "district": ("区县", "区", "所在区县", "区/县", "district"),
    "skills": ("技能", "特长", "技能特长", "skills", "skill"),
    "nights": (
        "可夜班",
        "夜班",
        "能否夜班",
        "接受夜班",
        "nights",
        "night shifts",
        "accepts_nights",
    ),
    "weekly_cap": ("每周上限", "每周班次上限", "周上限", "weekly_cap", "weekly cap", "cap"),
    "emergency_name": ("紧急联系人", "emergency_name", "emergency contact", "emergency name"),
    "emergency_phone": (
        "紧急联系电话",
        "紧急联系人电话",
        "emergency_phone",
        "emergency phone",
    ),
}

YES = frozenset({"是", "可", "可以", "能", "y", "yes", "true", "1", "√", "✓"})
NO = frozenset({"否", "不", "不可", "不可以", "不能", "n", "no", "false", "0", "×", "✗"})
SKILL_SEPARATORS = re.compile(r"[、,，;；/]")
LANDLINE = re.compile(r"^[0-9+\-() ]{7,20}$")
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")


class ImportFileError(ServiceError):
    """The file as a whole cannot be imported (wrong type, unreadable, empty, columns missing)."""


class ImportConflict(RuntimeError):
    """The write lost a race (a phone registered meanwhile): nothing was written."""

    def __init__(self, message: LazyString | str) -> None:
        super().__init__(message)  # rendered lazily, in the locale of the request
        self.message = message


@dataclass(frozen=True)
class Table:
    """The cells of a file below its header row, with the header mapped onto our fields."""

    columns: dict[str, int]  # field -> column index
    ignored_headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (line number in the file, cells)


@dataclass
class ImportRow:
    """One person from the file, normalised, with every reason it cannot be imported."""

    line: int
    name: str
    phone: str  # E.164 when valid, else as written
    work_unit: str | None
    district: str | None
    skills: tuple[str, ...]  # skill codes
    skill_labels: tuple[str, ...]  # as written, for the preview
    accepts_nights: bool
    weekly_cap: int
    emergency_name: str | None
    emergency_phone: str | None
    errors: list[LazyString] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def national_phone(self) -> str:
        return national(self.phone)


@dataclass(frozen=True)
class ImportPreview:
    """What a confirm would write: all rows, which are valid, and the ignored columns."""

    rows: tuple[ImportRow, ...]
    ignored_headers: tuple[str, ...]

    @property
    def valid_rows(self) -> tuple[ImportRow, ...]:
        return tuple(r for r in self.rows if r.ok)

    @property
    def invalid_rows(self) -> tuple[ImportRow, ...]:
        return tuple(r for r in self.rows if not r.ok)

    @property
    def fingerprint(self) -> str:
        """Identifies exactly which rows would be written, so a confirm can tell whether the
        coordinator saw the same outcome in the preview."""
        digest = hashlib.sha256()
        for row in self.valid_rows:
            digest.update(f"{row.line}:{row.phone};".encode())
        return digest.hexdigest()[:32]


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded file waiting between preview and confirm."""

    token: str
    data: bytes
    filename: str
    user_id: int
    work_unit: str | None


# --- reading the file -------------------------------------------------------------------------


def _normalise_header(text: str) -> str:
    text = re.sub(r"[（(].*?[)）]", "", text)  # "手机号码（必填）"
    return re.sub(r"[\s_\-*:：]", "", text.replace("\ufeff", "")).lower()


_ALIAS_TO_FIELD = {
    _normalise_header(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}


def _cell_text(value: Any) -> str:
    """Spreadsheet cells as text; phone numbers typed into Excel come back as numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030, the superset of the GBK that Chinese
    Excel writes; a file that is neither is refused rather than imported as mojibake."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t")
        if "\x00" in text or controls > len(text) // 100:
            break
        return text
    raise ImportFileError(
        _l("This file is not a readable CSV or XLSX file. Save it from Excel as CSV or XLSX.")
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _decode_text(data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",\t;", key=first_line.count)
    try:
        return [
            [c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
    except csv.Error as error:
        raise ImportFileError(
            _l("This CSV file is malformed: %(error)s", error=str(error))
        ) from error


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    rows: list[list[str]] = []
    try:
        with warnings.catch_warnings():
            # Style and data-validation warnings about other people's spreadsheets are noise.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if workbook.worksheets:
                    sheet = workbook.worksheets[0]
                    for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                        rows.append([_cell_text(v) for v in values])
                        if len(rows) > MAX_IMPORT_ROWS + HEADER_SEARCH_ROWS + 1:
                            break
            finally:
                workbook.close()
    except Exception as error:  # any failure to parse untrusted bytes means "unreadable"
        raise ImportFileError(
            _l("This spreadsheet cannot be read. Save it from Excel as XLSX or CSV and try again.")
        ) from error
    return rows


def read_table(data: bytes, filename: str) -> Table:
    """Turn the uploaded bytes into a header-mapped table; raise ImportFileError when the file
    as a whole is unusable (wrong type, unreadable, too big, empty, name/phone column missing)."""
    extension = os.path.splitext(filename or "")[1].lower()
    if extension not in (".csv", ".xlsx"):
        raise ImportFileError(_l("Only CSV and XLSX files can be imported."))
    if not data:
        raise ImportFileError(_l("The file is empty."))
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(_l("The file is larger than 5 MB."))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _l("This is an old Excel (.xls) file. Save it as XLSX or CSV and try again.")
        )
    is_zip = data.startswith(b"PK\x03\x04")
    if extension == ".xlsx" and not is_zip:
        raise ImportFileError(
            _l("This spreadsheet cannot be read. Save it from Excel as XLSX or CSV and try again.")
        )
    cells = _xlsx_rows(data) if is_zip else _csv_rows(data)
    return _map_header(cells)


def _map_header(cells: list[list[str]]) -> Table:
    numbered = [(line, row) for line, row in enumerate(cells, start=1) if any(c for c in row)]
    if not numbered:
        raise ImportFileError(_l("The file is empty."))
    for index, (_line, header) in enumerate(numbered[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        ignored: list[str] = []
        for position, title in enumerate(header):
            name = _ALIAS_TO_FIELD.get(_normalise_header(title))
            if name and name not in columns:
                columns[name] = position
            elif title.strip():
                ignored.append(title.strip())
        if all(f in columns for f in REQUIRED_FIELDS):
            body = tuple((line, tuple(row)) for line, row in numbered[index + 1 :])
            if not body:
                raise ImportFileError(_l("The file has a header row but no volunteers below it."))
            if len(body) > MAX_IMPORT_ROWS:
                raise ImportFileError(
                    _l("The file has more than %(n)d rows; split it up.", n=MAX_IMPORT_ROWS)
                )
            return Table(columns=columns, ignored_headers=tuple(ignored), rows=body)
    raise ImportFileError(
        _l(
            "No header row with a name column (姓名 or name) and a phone column "
            "(手机 or phone) was found in the first rows of the file."
        )
    )


# --- checking rows ----------------------------------------------------------------------------


def _parse_bool(text: str) -> bool | None:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    return None


def check_rows(
    table: Table,
    *,
    default_work_unit: str | None,
    skill_lookup: Mapping[str, str],
    force_work_unit: bool = False,
    district_names: Iterable[str],
    registered_phones: Iterable[str],
) -> list[ImportRow]:
    """Normalise every row and collect its errors. Pure: the caller supplies the skill lookup
    (lower-cased code/Chinese/English name -> code), the known districts and the phones that
    already have an account."""
    districts = set(district_names)
    registered = set(registered_phones)
    first_line_of: dict[str, int] = {}
    rows: list[ImportRow] = []

    def cell(cells: tuple[str, ...], name: str) -> str:
        position = table.columns.get(name)
        return cells[position].strip() if position is not None and position < len(cells) else ""

    for line, cells in table.rows:
        errors: list[LazyString] = []
        if any(len(c) > MAX_CELL_LENGTH for c in cells):
            errors.append(_l("A cell is longer than %(n)d characters.", n=MAX_CELL_LENGTH))

        name = cell(cells, "name")
        if not name:
            errors.append(_l("Name is missing."))
        elif len(name) > MAX_NAME_LENGTH:
            errors.append(_l("Name is longer than %(n)d characters.", n=MAX_NAME_LENGTH))

        raw_phone = cell(cells, "phone")
        phone = raw_phone
        if not raw_phone:
            errors.append(_l("Mobile number is missing."))
        else:
            try:
                phone = normalize_mobile(raw_phone)
            except InvalidPhone:
                errors.append(_l("Not a valid Chinese mobile number."))
            else:
                if phone in first_line_of:
                    errors.append(
                        _l("Same mobile number as row %(line)d.", line=first_line_of[phone])
                    )
                else:
                    first_line_of[phone] = line
                if phone in registered:
                    errors.append(_l("This mobile number is already registered."))

        work_unit = (
            (None if force_work_unit else cell(cells, "work_unit"))
            or (default_work_unit or "").strip()
            or None
        )
        if work_unit and len(work_unit) > MAX_WORK_UNIT_LENGTH:
            errors.append(_l("Work unit is longer than %(n)d characters.", n=MAX_WORK_UNIT_LENGTH))

        district = cell(cells, "district") or None
        if district and district not in districts:
            errors.append(_l("Unknown district: %(name)s.", name=district[:MAX_DISTRICT_LENGTH]))

        labels = tuple(
            s.strip() for s in SKILL_SEPARATORS.split(cell(cells, "skills")) if s.strip()
        )
        codes: list[str] = []
        for label in labels:
            code = skill_lookup.get(label.lower())
            if code is None:
                errors.append(_l("Unknown skill: %(name)s.", name=label[:60]))
            elif code not in codes:
                codes.append(code)

        nights_text = cell(cells, "nights")
        accepts_nights = False
        if nights_text:
            parsed = _parse_bool(nights_text)
            if parsed is None:
                errors.append(_l("Nights must be 是/否 (yes/no)."))
            else:
                accepts_nights = parsed

        cap_text = cell(cells, "weekly_cap")
        weekly_cap = DEFAULT_WEEKLY_CAP
        if cap_text:
            # "4" from CSV, "4.0" from a number cell; anything else is not a cap.
            whole = re.fullmatch(r"(\d{1,2})(\.0+)?", cap_text)
            weekly_cap = int(whole.group(1)) if whole else -1
            if not MIN_WEEKLY_CAP <= weekly_cap <= MAX_WEEKLY_CAP:
                errors.append(
                    _l(
                        "Weekly cap must be a whole number from %(low)d to %(high)d.",
                        low=MIN_WEEKLY_CAP,
                        high=MAX_WEEKLY_CAP,
                    )
                )
                weekly_cap = DEFAULT_WEEKLY_CAP

        emergency_name = cell(cells, "emergency_name") or None
        if emergency_name and len(emergency_name) > MAX_EMERGENCY_NAME_LENGTH:
            errors.append(
                _l(
                    "Emergency contact is longer than %(n)d characters.",
                    n=MAX_EMERGENCY_NAME_LENGTH,
                )
            )
        emergency_phone = cell(cells, "emergency_phone") or None
        if emergency_phone:
            try:
                emergency_phone = normalize_mobile(emergency_phone)
            except InvalidPhone:
                # A landline such as 0513-85123456 is a fine emergency contact.
                if (
                    not LANDLINE.match(emergency_phone)
                    or sum(ch.isdigit() for ch in emergency_phone) < 7
                ):
                    errors.append(_l("Emergency phone is not a phone number."))

        rows.append(
            ImportRow(
                line=line,
                name=name,
                phone=phone,
                work_unit=work_unit,
                district=district,
                skills=tuple(codes),
                skill_labels=labels,
                accepts_nights=accepts_nights,
                weekly_cap=weekly_cap,
                emergency_name=emergency_name,
                emergency_phone=emergency_phone,
                errors=errors,
            )
        )
    return rows


# --- database side ----------------------------------------------------------------------------


def _skill_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for skill in db.session.scalars(select(Skill)):
        for label in (skill.code, skill.name_zh, skill.name_en):
            lookup[label.strip().lower()] = skill.code
    return lookup


def _registered(phones: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(phones), 500):
        chunk = phones[start : start + 500]
        found.update(db.session.scalars(select(User.phone).where(User.phone.in_(chunk))))
    return found


def preview_import(
    data: bytes, filename: str, default_work_unit: str | None, force_work_unit: bool = False
) -> ImportPreview:
    """Read and check an upload against the current database; writes nothing. With
    `force_work_unit` (a liaison's import) every row is of `default_work_unit`, whatever the
    file says. Raises ImportFileError when the file as a whole is unusable."""
    table = read_table(data, filename)
    phone_column = table.columns["phone"]
    candidates: list[str] = []
    for _line, cells in table.rows:
        if phone_column < len(cells):
            with contextlib.suppress(InvalidPhone):
                candidates.append(normalize_mobile(cells[phone_column]))
    rows = check_rows(
        table,
        default_work_unit=default_work_unit,
        force_work_unit=force_work_unit,
        skill_lookup=_skill_lookup(),
        district_names=db.session.scalars(select(District.name)),
        registered_phones=_registered(candidates),
    )
    return ImportPreview(rows=tuple(rows), ignored_headers=table.ignored_headers)


def write_import(preview: ImportPreview, user: Any = None) -> list[ClaimSlip]:
    """Create a volunteer account for every valid row, all in one transaction, and return a
    claim slip (with its one-time code) per account created. Work units named in the file
    that do not exist yet are created. Accounts get an unusable password until the volunteer
    claims the account with their phone number and code (scheduler.services.claims), or an
    admin sets one. Qualifications (e.g. medical) are imported unverified. A phone taken
    meanwhile (the unique constraint catches a concurrent registration) rolls everything back
    and raises ImportConflict.

    Imported by a coordinator or liaison of a union (`user`), the members land in that union:
    a liaison's import puts everyone in their grassroots union; a district coordinator's puts
    new work units under the district and people without one in it. A row that would land
    outside the importer's scope (a work unit of another district) fails the whole import."""
    rows = preview.valid_rows
    if not rows:
        return []
    home = user.organisation if user is not None and not scope.sees_everything(user) else None
    home_unit = home_district = None
    if home is not None:
        home_unit = db.session.scalars(
            select(WorkUnit).where(WorkUnit.organisation_id == home.id)
        ).first()
        home_district = db.session.scalars(
            select(District).where(District.organisation_id == home.id)
        ).first()
    skills = {s.code: s for s in db.session.scalars(select(Skill))}
    districts = {d.name: d for d in db.session.scalars(select(District))}
    units = {u.name: u for u in db.session.scalars(select(WorkUnit))}
    users: list[User] = []
    try:
        for row in rows:
            unit = home_unit
            if row.work_unit and unit is None:
                unit = units.get(row.work_unit)
                if unit is None:
                    unit = units[row.work_unit] = WorkUnit(name=row.work_unit)
                    if home is not None:
                        unit.organisation = Organisation(
                            kind=GRASSROOTS, name=row.work_unit[:100], parent=home
                        )
                    db.session.add(unit)
            district = districts.get(row.district) if row.district else None
            volunteer = Volunteer(
                work_unit=unit,
                district=district or home_district,
                accepts_nights=row.accepts_nights,
                weekly_cap=row.weekly_cap,
                emergency_name=row.emergency_name,
                emergency_phone=row.emergency_phone,
                skills=[VolunteerSkill(skill=skills[code]) for code in row.skills],
            )
            account = User(
                name=row.name,
                phone=row.phone,
                role=VOLUNTEER,
                password_hash=IMPORTED_PASSWORD_HASH,
                volunteer=volunteer,
            )
            db.session.add(account)
            users.append(account)
        db.session.flush()
        outside = [a for a in users if a.volunteer and not scope.in_scope(a.volunteer, user)]
        if outside:
            db.session.rollback()
            raise ImportConflict(
                _l(
                    "%(name)s would belong to a union outside yours (their work unit or "
                    "district). Nothing was imported; fix the file and upload it again.",
                    name=outside[0].name,
                )
            )
        now = utcnow()
        slips = [assign_code(account, now) for account in users]
        audit.record(
            audit.IMPORT,
            object_type="import",
            object_id=None,
            summary=audit.Summary("volunteers", {"num": len(users)}),
            details={
                "accounts_created": len(users),
                "user_ids": [account.id for account in users],
                "work_units": sorted({row.work_unit for row in rows if row.work_unit}),
            },
            organisation_id=scope.home_node_id(user),
        )
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise ImportConflict(
            _l(
                "A mobile number in this file was registered while the import ran. "
                "Nothing was imported; check the preview and confirm again."
            )
        ) from error
    return slips


# --- keeping the upload between preview and confirm -------------------------------------------


def _paths(directory: Path, token: str) -> tuple[Path, Path]:
    return directory / f"{token}.upload", directory / f"{token}.json"


def store_upload(
    directory: Path, data: bytes, *, user_id: int, filename: str, work_unit: str | None
) -> str:
    """Keep an upload for the confirm step; returns the random token that names it."""
    directory.mkdir(parents=True, exist_ok=True)
    purge_stale_uploads(directory)
    token = secrets.token_urlsafe(24)
    blob, meta = _paths(directory, token)
    blob.write_bytes(data)
    meta.write_text(
        json.dumps({"user_id": user_id, "filename": filename, "work_unit": work_unit}),
        encoding="utf-8",
    )
    return token


def load_upload(directory: Path, token: str, user_id: int) -> StoredUpload | None:
    """The upload named by `token` if it exists, is fresh and belongs to `user_id`."""
    if not TOKEN_PATTERN.match(token or ""):
        return None
    blob, meta = _paths(directory, token)
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        if time.time() - meta.stat().st_mtime > UPLOAD_MAX_AGE_SECONDS:
            return None
        data = blob.read_bytes()
    except (OSError, ValueError):
        return None
    if info.get("user_id") != user_id:
        return None
    return StoredUpload(
        token=token,
        data=data,
        filename=str(info.get("filename") or ""),
        user_id=user_id,
        work_unit=info.get("work_unit"),
    )


def discard_upload(directory: Path, token: str) -> None:
    """Forget an upload (after it was imported or cancelled)."""
    if not TOKEN_PATTERN.match(token or ""):
        return
    for path in _paths(directory, token):
        path.unlink(missing_ok=True)


def purge_stale_uploads(directory: Path, max_age: float = UPLOAD_MAX_AGE_SECONDS) -> None:
    """Delete uploads nobody confirmed within `max_age` seconds."""
    cutoff = time.time() - max_age
    for path in directory.glob("*.*"):
        if path.suffix in (".upload", ".json"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except OSError:
                continue
