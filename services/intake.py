"""CSV intake: download from Slack, decode, check and normalise a candidate file before Pluto sees it.

* Downloads only from Slack's file hosts (or the host of ``SLACK_API_URL``), with the bot
  token, refusing files over the size limit before downloading.
* Decoding: UTF-8 with or without BOM, else Windows-1252; binary files are refused.
* Delimiter: comma, semicolon or tab (Excel's ``sep=`` line honoured), confirmed by pandas.
* Checks: a column that names the candidate; row count, empty rows, duplicate names,
  ragged rows. Refusals say what is wrong and show an example header.
* Output: UTF-8 without BOM, comma-delimited, one header row, as the Pluto server reads it.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pandas as pd

from services.errors import BadInput
from services.store import Store, now

EXAMPLE_HEADER = "name,email,current_title,years_experience,skills"
NAME_COLUMNS = ("name", "full_name", "candidate", "candidate_name")
SLACK_FILE_HOSTS = ("files.slack.com", "slack-files.com")
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
BINARY_SIGNATURES = {b"PK\x03\x04": "an Excel workbook or another zip file", b"%PDF": "a PDF",
                     b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook", b"\x89PNG": "an image"}
csv.field_size_limit(1 << 30)  # cells can hold whole JSON documents


class IntakeError(BadInput):
    service = "CSV check"

    @property
    def user_message(self) -> str:
        text = f"I can't score this file: {self.message}"
        return f"{text} {self.hint}".strip()


def _refuse(message: str, example: bool = True) -> IntakeError:
    hint = f"A header like `{EXAMPLE_HEADER}` works; only a name column is required." if example else ""
    return IntakeError(message, hint=hint)


# -- download -----------------------------------------------------------------------------
def allowed_download(url: str, slack_api_url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if urlsplit(url).scheme not in ("https", "http"):
        return False
    api_host = (urlsplit(slack_api_url).hostname or "").lower()
    if host == api_host:
        return True
    return urlsplit(url).scheme == "https" and (host in SLACK_FILE_HOSTS or host.endswith(".slack.com"))


def download_slack_file(file: dict[str, Any], *, token: str, slack_api_url: str, max_bytes: int,
                        transport: httpx.BaseTransport | None = None) -> bytes:
    """Fetch a Slack file object's content with the bot token, within ``max_bytes``."""
    name = file.get("name") or "the file"
    size = int(file.get("size") or 0)
    if size > max_bytes:
        raise IntakeError(f"{name} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.",
                          hint="Split it into smaller files.")
    url = file.get("url_private_download") or file.get("url_private") or ""
    if not url or not allowed_download(url, slack_api_url):
        raise IntakeError(f"{name} is not stored on Slack, so I won't download it.",
                          hint="Upload the CSV to Slack itself.")
    chunks, total = [], 0
    with httpx.Client(timeout=httpx.Timeout(60, connect=10), transport=transport, follow_redirects=False) as http:
        with http.stream("GET", url, headers={"Authorization": "Bearer " + token}) as response:
            if response.status_code != 200:
                raise IntakeError(f"Slack answered HTTP {response.status_code} when I fetched {name}.",
                                  hint="Check that I have the files:read scope and try again.")
            if "text/html" in response.headers.get("content-type", ""):
                raise IntakeError(f"Slack sent a sign-in page instead of {name}.",
                                  hint="My token may lack files:read; reinstall the app.")
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise IntakeError(f"{name} is larger than {max_bytes / 1e6:.0f} MB.",
                                      hint="Split it into smaller files.")
                chunks.append(chunk)
    return b"".join(chunks)


# -- inspection ------------------------------------------------------------------------------
@dataclass
class IntakeReport:
    filename: str
    encoding: str
    delimiter: str
    columns: list[str]
    name_column: str  # a column name, or "first_name + last_name"
    rows: int
    empty_rows: int = 0
    duplicate_names: dict[str, int] = field(default_factory=dict)
    ragged_rows: list[int] = field(default_factory=list)  # line numbers (1 = header)
    preview: list[str] = field(default_factory=list)

    @property
    def delimiter_name(self) -> str:
        return DELIMITERS.get(self.delimiter, repr(self.delimiter))

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.empty_rows:
            out.append(f"{self.empty_rows} empty row(s) were skipped")
        if self.duplicate_names:
            names = ", ".join(f"{n} ×{c}" for n, c in list(self.duplicate_names.items())[:5])
            out.append(f"duplicate names: {names}")
        if self.ragged_rows:
            lines = ", ".join(str(n) for n in self.ragged_rows[:5])
            more = f" and {len(self.ragged_rows) - 5} more" if len(self.ragged_rows) > 5 else ""
            out.append(f"{len(self.ragged_rows)} row(s) have a different number of cells than the header "
                       f"(line {lines}{more})")
        return out


def decode(data: bytes) -> tuple[str, str]:
    if not data or not data.strip():
        raise _refuse("the file is empty.")
    for signature, what in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise _refuse(f"it looks like {what}, not a CSV. Export it as CSV (UTF-8) and share that.", example=False)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _refuse("it is not readable text.", example=False) from None
    if b"\x00" in data[:65536]:
        raise _refuse("it is not a text file.", example=False)
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "windows-1252"


def _sniff(text: str) -> tuple[str, str]:
    """(delimiter, text without an Excel ``sep=`` line)."""
    first, _, rest = text.partition("\n")
    if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
        return first.strip()[4], rest
    sample = text[:65536]
    header = sample.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        try:
            best = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
        except csv.Error:
            best = ","
    return best, text


def _looks_like_prose(header: list[str], text: str) -> bool:
    """A file that reads as sentences (a letter, a note) rather than a table: a "column name" of more than
    five words or forty characters, or one that ends a sentence; or a header with a nameless (or a single)
    column over lines of eight words and more."""
    cells = [c for c in header if c]
    if any(len(c.split()) > 5 or len(c) > 40 or (len(c.split()) > 2 and c.endswith((".", "!", "?")))
           for c in cells):
        return True
    if len(cells) == len(header) and len(header) > 1:
        return False
    lines = [line for line in text.splitlines() if line.strip()][:6]
    return any(len(line.split()) >= 8 for line in lines)


def _name_column(columns: list[str]) -> str | None:
    lowered = {c.strip().lower().replace(" ", "_"): c for c in columns}
    for wanted in NAME_COLUMNS:
        if wanted in lowered:
            return lowered[wanted]
    if ("first_name" in lowered or "firstname" in lowered) and ("last_name" in lowered or "lastname" in lowered):
        return "first_name + last_name"
    return None


def inspect_csv(data: bytes, filename: str) -> tuple[IntakeReport, pd.DataFrame]:
    """Check ``data``; return the report and the rows (as strings), or raise :class:`IntakeError`."""
    text, encoding = decode(data)
    delimiter, text = _sniff(text)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise _refuse("the first line (the header) is empty.")
    header = [h.strip() for h in rows[0]]
    if _looks_like_prose(header, text):
        first = " ".join(c for c in rows[0] if c.strip()).strip()
        shown = first if len(first) <= 60 else first[:59].rstrip() + "…"
        raise _refuse(f"this looks like text, not a table of candidates: its first line reads “{shown}”. "
                      "Export the spreadsheet of candidates as CSV (one row a candidate, a header row first).")
    if any(not h for h in header):
        position = header.index("") + 1
        raise _refuse(f"column {position} of the header has no name.")
    dupes = [h for h, n in Counter(h.lower() for h in header).items() if n > 1]
    if dupes:
        raise _refuse(f"the header repeats the column {dupes[0]!r}.")
    name_col = _name_column(header)
    if name_col is None:
        shown = ", ".join(header[:8]) + ("…" if len(header) > 8 else "")
        raise _refuse(f"no column names the candidate (I found: {shown}). Add a `name` column, or "
                      "`first_name` and `last_name`.")
    body = rows[1:]
    empty = [r for r in body if not any(cell.strip() for cell in r)]
    data_rows = [r for r in body if any(cell.strip() for cell in r)]
    if not data_rows:
        raise _refuse("it has a header but no candidate rows.")
    ragged = [i + 2 for i, r in enumerate(body) if any(c.strip() for c in r) and len(r) != len(header)]
    if len(ragged) > len(data_rows) / 2:
        raise _refuse(f"most rows don't match the header ({len(header)} columns); is the delimiter right? "
                      f"I read it as {DELIMITERS.get(delimiter, delimiter)}.")
    width = len(header)
    frame = pd.DataFrame([(r + [""] * width)[:width] for r in data_rows], columns=header, dtype=str)
    if name_col == "first_name + last_name":
        lowered = {c.lower().replace(" ", "_"): c for c in header}
        first = lowered.get("first_name") or lowered["firstname"]
        last = lowered.get("last_name") or lowered["lastname"]
        names = (frame[first].str.strip() + " " + frame[last].str.strip()).str.strip()
    else:
        names = frame[name_col].str.strip()
    missing_names = int((names == "").sum())
    if missing_names == len(frame):
        raise _refuse(f"the {name_col} column is empty in every row.")
    counts = names[names != ""].value_counts()
    duplicates = {str(n): int(c) for n, c in counts[counts > 1].items()}
    report = IntakeReport(filename=filename, encoding=encoding, delimiter=delimiter, columns=header,
                          name_column=name_col, rows=len(frame), empty_rows=len(empty), duplicate_names=duplicates,
                          ragged_rows=ragged[:100], preview=[str(n) for n in names[names != ""].head(5)])
    return report, frame


def normalise(frame: pd.DataFrame, path: Path) -> Path:
    """Write UTF-8 (no BOM), comma-delimited, one header row, every cell quoted where needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


@dataclass
class IntakeResult:
    id: str
    report: IntakeReport
    csv_path: Path
    file_id: str


def run_intake(store: Store, data: bytes, filename: str, *, work_dir: Path, source: dict[str, Any]) -> IntakeResult:
    """Keep the original, check it, write the normalised copy, and record the intake (even when refused)."""
    intake_id = uuid.uuid4().hex
    file_id = f"intake-{intake_id}"
    store.save_file(file_id, filename, data, source=source.get("source", "slack"))
    record = {"id": intake_id, "file_id": file_id, "filename": filename, "user": source.get("user"),
              "channel": source.get("channel"), "created_at": now()}
    try:
        report, frame = inspect_csv(data, filename)
    except IntakeError as exc:
        store.insert("intakes", {**record, "ok": False, "error": exc.user_message, "report_json": None})
        raise
    stem = Path(filename).stem or "candidates"
    csv_path = normalise(frame, Path(work_dir) / f"{intake_id}-{stem}.csv")
    store.insert("intakes", {**record, "ok": True, "error": None, "report_json": asdict(report),
                             "normalized_path": str(csv_path)})
    return IntakeResult(intake_id, report, csv_path, file_id)
