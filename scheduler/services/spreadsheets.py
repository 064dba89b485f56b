"""Writing tables for spreadsheet programs, the one way every export does it: CSV in UTF-8
with a byte order mark (so Excel opens Chinese correctly) and CRLF line ends, and XLSX sheets
with a bold, frozen header row, an autofilter and columns as wide as their content. Text is
never read as a formula (CSV injection), in either format."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "CSV_MEDIA_TYPE",
    "SHEET_TITLE_BAD",
    "XLSX_MEDIA_TYPE",
    "csv_bytes",
    "csv_text",
    "sheet_titles",
    "write_table",
]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's limits for a worksheet's name: at most 31 characters, none of []:*?/\ , not blank,
# not starting or ending with an apostrophe, unique ignoring case, and "History" is reserved.
SHEET_TITLE_MAX = 31
SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_RESERVED_TITLES = {"history"}
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def csv_text(value: str) -> str:
    """Free text as a spreadsheet shows it, never as a formula: a leading =, +, -, @, tab or
    carriage return gets an apostrophe in front (OWASP's advice against CSV injection)."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def csv_bytes(header: Sequence[object], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file: the header, then the rows; every text cell goes through csv_text (numbers,
    dates and None are written as they are)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_text(v) if isinstance(v, str) else v for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def sheet_titles(names: Iterable[str], reserved: Iterable[str] = ()) -> list[str]:
    """A valid, unique Excel worksheet name for each of `names` (in order), none equal to a
    `reserved` one: forbidden characters become '_', long names are cut to 31 characters,
    and repeats get ' (2)', ' (3)'... within the limit."""
    taken = {t.casefold() for t in reserved} | _RESERVED_TITLES
    titles = []
    for name in names:
        base = SHEET_TITLE_BAD.sub("_", " ".join(name.split())).strip("'").strip()
        base = base[:SHEET_TITLE_MAX].strip() or "_"
        title, n = base, 1
        while title.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            title = base[: SHEET_TITLE_MAX - len(suffix)].rstrip() + suffix
        taken.add(title.casefold())
        titles.append(title)
    return titles


def _width(value: object) -> int:
    """Roughly how many character widths Excel needs: CJK characters take two."""
    text = value if isinstance(value, str) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_table(
    ws: Worksheet,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    formats: dict[int, str] | None = None,
) -> None:
    """A table from A1: a bold header row kept in view (freeze_panes) and an autofilter; text
    always stored as text (never read as a formula); each column as wide as its content.
    `formats` maps a 1-based column to a number format (e.g. {1: "yyyy-mm-dd"})."""
    bold = Font(bold=True)
    widths = [_width(h) for h in header]
    for col, title in enumerate(header, start=1):
        ws.cell(row=1, column=col, value=title).font = bold
    for r, values in enumerate(rows, start=2):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"
            else:
                cell.value = value
            if formats and col in formats:
                cell.number_format = formats[col]
            widths[col - 1] = max(widths[col - 1], _width(value if value is not None else ""))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(
            max(width + 2, _MIN_WIDTH), _MAX_WIDTH
        )
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
