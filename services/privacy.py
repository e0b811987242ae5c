"""Privacy helpers: mask personal data for public channels, make CSV cells safe.

* Emails, phone numbers and street addresses are masked wherever the bot posts to a public
  conversation (whether one is public is the Slack layer's question: ``conversations.info``).
* Every CSV the bot produces escapes cells that begin with ``= + - @`` (and tab/CR),
  so a spreadsheet never runs a candidate-supplied formula (CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

EMAIL_RE = re.compile(r"(?<![\w.+'-])([A-Za-z0-9][A-Za-z0-9._%+'-]*)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})\b")
# A phone-like run: optional +, digits with spaces, dots, dashes, slashes or brackets between them.
# not glued to a word by a hyphen or underscore: "interview-20261206", "run_1234567" are names, not phones
PHONE_RE = re.compile(r"(?<![\w/.^|])(?<!\w[-_])(?:\+|00)?\(?\d[\d\s().\-/]{5,}\d(?![\w/])")
STREET_WORDS = ("Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Parkway|Pkwy"
                "|Terrace|Square|Sq|Highway|Hwy|Strasse|Straße|Rue|Calle|Via")
ADDRESS_RE = re.compile(rf"\b\d{{1,5}}[A-Za-z]?(?:\s+[A-Z][\w'’-]*){{1,4}}\s+(?:{STREET_WORDS})\b\.?"
                        rf"|\b(?:Rue|Calle|Via)(?:\s+[\w'’-]+){{1,4}}?,?\s+\d{{1,5}}\b")
SLACK_TOKEN_RE = re.compile(r"<[^<>\n]*>")
# Number shapes that are not phones: dates, year ranges, decimals, times, Slack timestamps.
NOT_PHONE_RE = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"  # dates
    r"|(?:19|20)\d{2}\s*[-–/]\s*(?:19|20)?\d{2}"  # year ranges
    r"|\d+\.\d+|\d{10}\.\d{6})$")
MASK = "•••"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def mask_email(email: str) -> str:
    """``jane.doe+jobs@acme.com`` -> ``j•••@acme.com``."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return mask_text(email)
    return f"{local[:1]}{MASK}@{domain}"


def mask_phone(phone: str) -> str:
    """Keep the last two digits: ``+1 415 555 0199`` -> ``•••99``."""
    digits = re.sub(r"\D", "", phone or "")
    return f"{MASK}{digits[-2:]}" if len(digits) >= 4 else MASK


def looks_like_phone(candidate: str) -> bool:
    """A phone's shape: 7 to 15 digits (E.164 allows 15) with separators or a leading + (10 or more when
    written as one bare run), and not a date, a year range, a decimal or a timestamp."""
    text = candidate.strip()
    digits = sum(c.isdigit() for c in text)
    if not 7 <= digits <= 15 or NOT_PHONE_RE.match(text):
        return False
    if text.isdigit() and digits < 10:
        return False  # a bare short run is a number or an id; a phone has a national length or separators
    return not re.fullmatch(r"\d{1,3}(?:,\d{3})+", text)  # 1,000,000 is a number, not a phone


def _mask_plain(text: str) -> str:
    text = EMAIL_RE.sub(lambda m: mask_email(m.group(0)), text)
    text = ADDRESS_RE.sub("[address hidden]", text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group(0)) if looks_like_phone(m.group(0)) else m.group(0), text)


def _mask_token(token: str) -> str:
    """Slack's ``<...>`` tokens: mentions, channels and dates stay; mailto/tel links are masked whole."""
    inner = token[1:-1]
    if inner.startswith(("mailto:", "tel:")):
        label = inner.partition("|")[2] or inner.partition(":")[2]
        return _mask_plain(label)
    if inner.startswith(("@", "#", "!")):
        return token
    url, bar, label = inner.partition("|")
    return f"<{url}|{_mask_plain(label)}>" if bar else token


def mask_text(text: str) -> str:
    """Mask every email address, phone number and street address inside free text (Slack mrkdwn aware)."""
    if not text:
        return text
    out, last = [], 0
    for token in SLACK_TOKEN_RE.finditer(text):
        out.append(_mask_plain(text[last:token.start()]))
        out.append(_mask_token(token.group(0)))
        last = token.end()
    out.append(_mask_plain(text[last:]))
    return "".join(out)


TEXT_KEYS = frozenset({"text", "fallback", "alt_text", "title", "pretext", "footer", "label", "summary"})


def mask_payload(value: Any, key: str = "") -> Any:
    """Mask the human-readable strings of a Block Kit message, view or metadata, leaving ids and values.

    Every ``text``-like field is masked; ``action_id``, ``block_id``, button ``value``, URLs and
    other machine fields are left as they are so buttons keep working.
    """
    if isinstance(value, dict):
        return {k: mask_payload(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_payload(v, key) for v in value]
    if isinstance(value, str) and key in TEXT_KEYS:
        return mask_text(value)
    return value


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


def escape_csv_bytes(data: bytes, *, masked: bool = False) -> bytes:
    """Re-write an existing CSV (e.g. an API's export) with every cell escaped; ``masked``: personal
    data in every cell masked too (for a public conversation)."""
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    rows = list(reader)
    if not rows:
        return b""
    body = [[mask_text(cell) for cell in row] for row in rows[1:]] if masked else rows[1:]
    return write_csv(rows[0], body)
