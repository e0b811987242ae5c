"""CSV intake: the checks a recruiter's file meets before anything goes to Pluto."""

import json

import httpx
import pytest

from services.intake import (
    EXAMPLE_HEADER,
    IntakeError,
    download_slack_file,
    inspect_csv,
    run_intake,
)
from services.store import Store

MALFORMED = [
    ("empty", b"", "the file is empty"),
    ("whitespace only", b"  \n\n \n", "the file is empty"),
    ("header only", b"name,email\n", "it has a header but no candidate rows"),
    ("header and blank rows", b"name,email\n,\n\n", "it has a header but no candidate rows"),
    ("no name column", b"email,title\na@x.com,Eng\n", "no column names the candidate (I found: email, title)"),
    ("only a first name", b"first_name,email\nAda,a@x.com\n", "no column names the candidate"),
    ("xlsx", b"PK\x03\x04rest-of-zip", "it looks like an Excel workbook or another zip file"),
    ("pdf", b"%PDF-1.7 ...", "it looks like a PDF"),
    ("old xls", b"\xd0\xcf\x11\xe0\xa1\xb1", "it looks like an old Excel (.xls) workbook"),
    ("binary with NULs", b"name\x00\x01\x02,x\n\x00\x00", "it is not a text file"),
    ("blank header", b"\nname,email\nAda,a@x\n", "the first line (the header) is empty"),
    ("unnamed column", b"name,,email\nAda,1,a@x\n", "column 2 of the header has no name"),
    ("repeated column", b"name,email,Email\nAda,a,b\n", "the header repeats the column 'email'"),
    ("names all empty", b"name,email\n,a@x.com\n ,b@x.com\n", "the name column is empty in every row"),
    ("wrong delimiter", b"name|email|title\nAda|a@x|Eng\nAlan|b@x|Eng\n", "no column names the candidate"),
    ("mostly ragged", b"name,email\nAda,a@x,1,2\nAlan,b@x,3,4\nGrace,c@x\n", "most rows don't match the header"),
]


@pytest.mark.parametrize(("case", "data", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_csvs_are_refused_with_a_clear_message(case, data, message):
    with pytest.raises(IntakeError) as err:
        inspect_csv(data, f"{case}.csv")
    text = err.value.user_message
    assert text.startswith("I can't score this file:")
    assert message in text
    if case not in ("xlsx", "pdf", "old xls", "binary with NULs"):
        assert EXAMPLE_HEADER in text  # shows an example header


def test_utf8_bom_and_semicolon():
    data = "\ufeffname;email;city\nZoë Ångström;z@x.com;Malmö\nAda;a@x.com;London\n".encode()
    report, frame = inspect_csv(data, "c.csv")
    assert report.encoding == "utf-8-sig" and report.delimiter_name == "semicolon"
    assert report.columns[0] == "name" and report.rows == 2 and report.preview[0] == "Zoë Ångström"


def test_windows_1252_and_tab():
    data = "name\tcompany\nJosé Müller\tCafé €uro\n".encode("cp1252")
    report, frame = inspect_csv(data, "c.csv")
    assert report.encoding == "windows-1252" and report.delimiter == "\t"
    assert frame.iloc[0]["company"] == "Café €uro"


def test_excel_sep_line():
    report, _ = inspect_csv(b"sep=;\nname;email\nAda;a@x\n", "c.csv")
    assert report.delimiter == ";" and report.rows == 1


def test_multiline_cells_and_a_15kb_json_cell():
    blob = json.dumps({"deals": [{"id": i, "note": "x" * 50} for i in range(250)]})
    assert len(blob) > 15000
    quoted = blob.replace('"', '""')
    data = (f'name,resume,crm\n"Ada","Line 1\nLine 2, with comma","{quoted}"\n'
            f'"Alan","Single",""\n').encode()
    report, frame = inspect_csv(data, "c.csv")
    assert report.rows == 2 and not report.ragged_rows
    assert frame.iloc[0]["resume"] == "Line 1\nLine 2, with comma"
    assert json.loads(frame.iloc[0]["crm"])["deals"][249]["id"] == 249


def test_first_and_last_name_duplicates_empty_and_ragged_rows_are_reported():
    data = (b"First Name,Last Name,email,active\nAda,Lovelace,a@x,t\n,,,\nAda,Lovelace,b@x,f\n"
            b"Alan,Turing,c@x\nGrace,Hopper,d@x,t\n")
    report, _ = inspect_csv(data, "c.csv")
    assert report.name_column == "first_name + last_name"
    assert report.rows == 4 and report.empty_rows == 1
    assert report.duplicate_names == {"Ada Lovelace": 2}
    assert report.ragged_rows == [5]
    warnings = " ".join(report.warnings)
    assert "1 empty row" in warnings and "Ada Lovelace ×2" in warnings and "line 5" in warnings


def test_run_intake_keeps_the_original_and_writes_normalised_utf8_comma(tmp_path):
    store = Store(tmp_path / "bot.db")
    original = "\ufeffname;city\nZoë;Malmö\n".encode()
    result = run_intake(store, original, "team.csv", work_dir=tmp_path / "work",
                        source={"user": "U1", "channel": "C1"})
    written = result.csv_path.read_bytes()
    assert written == "name,city\nZoë,Malmö\n".encode()  # no BOM, comma, one header
    assert store.load_file(result.file_id)["content"] == original
    record = store.get("intakes", result.id)
    assert record["ok"] and record["report_json"]["rows"] == 1 and record["channel"] == "C1"
    with pytest.raises(IntakeError):
        run_intake(store, b"email\nx\n", "bad.csv", work_dir=tmp_path / "work", source={})
    failed = store.rows("intakes", "ok = 0")
    assert len(failed) == 1 and "no column names the candidate" in failed[0]["error"]
    assert store.load_file(failed[0]["file_id"])["content"] == b"email\nx\n"


def _file(url, size=10):
    return {"id": "F1", "name": "c.csv", "size": size, "url_private_download": url}


def test_download_uses_the_bot_token_and_only_slack_hosts():
    seen = {}

    def handler(request):
        seen["auth"] = request.headers.get("authorization")
        return httpx.Response(200, content=b"name\nAda\n", headers={"content-type": "text/csv"})

    transport = httpx.MockTransport(handler)
    data = download_slack_file(_file("https://files.slack.com/files-pri/T-F1/c.csv"), token="xoxb-1",
                               slack_api_url="https://slack.com/api/", max_bytes=1000, transport=transport)
    assert data == b"name\nAda\n" and seen["auth"] == "Bearer xoxb-1"
    for url in ("https://evil.example.com/c.csv", "http://files.slack.com/c.csv", "file:///etc/passwd"):
        with pytest.raises(IntakeError) as err:
            download_slack_file(_file(url), token="t", slack_api_url="https://slack.com/api/", max_bytes=1000,
                                transport=transport)
        assert "not stored on Slack" in err.value.user_message
    # The host of SLACK_API_URL (the test bed) is allowed.
    assert download_slack_file(_file("http://127.0.0.1:5000/files-pri/x"), token="t",
                               slack_api_url="http://127.0.0.1:5000/api/", max_bytes=1000, transport=transport)


def test_download_refuses_big_files_before_fetching_and_html_login_pages():
    calls = []
    transport = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(
        200, content=b"<html>Sign in</html>", headers={"content-type": "text/html"}))
    with pytest.raises(IntakeError) as err:
        download_slack_file(_file("https://files.slack.com/x", size=60_000_000), token="t",
                            slack_api_url="https://slack.com/api/", max_bytes=50_000_000, transport=transport)
    assert "60.0 MB" in err.value.user_message and "limit is 50 MB" in err.value.user_message and not calls
    with pytest.raises(IntakeError) as err:
        download_slack_file(_file("https://files.slack.com/x"), token="t", slack_api_url="https://slack.com/api/",
                            max_bytes=1000, transport=transport)
    assert "sign-in page" in err.value.user_message
