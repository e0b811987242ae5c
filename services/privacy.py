"""Privacy helpers: mask personal data for public channels, make CSV cells safe.

* Emails and phone numbers are masked wherever the bot posts to a shared channel.
* Every CSV the bot produces escapes cells that begin with ``= + - @`` (and tab/CR),
  so a spreadsheet never runs a candidate-supplied formula (CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

EMAIL_RE = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")
PHONE_RE = re.compile(r"(?<![\w/])\+?\d[\d\s().-]{6,}\d(?!\w)")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def mask_email(email: str) -> str:
    """``jane.doe@acme.com`` -> ``j•••@acme.com``."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return mask_text(email)
    return f"{local[:1]}•••@{domain}"


def mask_phone(phone: str) -> str:
    """Keep the last two digits: ``+1 415 555 0199`` -> ``•••99``."""
    digits = re.sub(r"\D", "", phone or "")
    return f"•••{digits[-2:]}" if len(digits) >= 4 else "•••"


def mask_text(text: str) -> str:
    """Mask every email address and phone-like number inside free text."""
    if not text:
        return text
    text = EMAIL_RE.sub(lambda m: mask_email(m.group(0)), text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group(0)) if sum(c.isdigit() for c in m.group(0)) >= 7
                        else m.group(0), text)


def escape_csv_cell(value: Any) -> Any:
    """Prefix a formula-looking text cell with ``'`` so spreadsheets show it as text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Build a UTF-8 CSV with every cell escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([escape_csv_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else escape_csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def escape_csv_bytes(data: bytes) -> bytes:
    """Re-write an existing CSV (e.g. an API's export) with every cell escaped."""
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    rows = list(reader)
    if not rows:
        return b""
    return write_csv(rows[0], rows[1:])
