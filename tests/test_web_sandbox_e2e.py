"""The sandbox in the browser, in a real headless Chromium (Debian's ``chromium``) driven by Playwright.

The real bot runs over HTTP against the stand-ins; the page (sandbox/web.py + sandbox/webui/) is used as
a person would use it: the tour is clicked through (score a CSV dropped on the composer, open a candidate,
start an interview, create voice links in the modal, complete one from the sandbox panel, voice-screen the
top 3, decide on the board, chart it), and a second test renders a gallery of Block Kit and a modal with
every input type. Each step saves a screenshot in the artifacts folder (``SANDBOX_ARTIFACTS``, else a temp
folder); with ``PLUTO_README_SHOTS=1`` the two README pictures (docs/img/) are made anew from the run.

Where Chromium or Playwright is missing these tests skip with the reason (``python3 dev.py test`` installs
Debian's chromium as root); in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from sandbox.stack import Stack, StackOptions
from sandbox.web import CHANNEL, OUTSIDER, USER, WebSandbox, prepare

ROOT = Path(__file__).resolve().parents[1]
README_SHOTS = ROOT / "docs" / "img"
CSV = (ROOT / "examples" / "candidates.csv").read_bytes()
WAIT = 30_000  # ms: the bot and the simulators answer within a few seconds on a loaded 2-core machine


def chromium_or_skip() -> str:
    """Debian's chromium and Playwright, or a skip with the reason (a failure in CI)."""
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Playwright is not installed (the dev extra: pip install -e '.[dev]')"
    executable = os.environ.get("PLUTO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if reason is None and not executable:
        reason = "Debian's chromium is not installed (python3 dev.py test installs it when run as root)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    return executable


@pytest.fixture(scope="module")
def artifacts():
    folder = Path(os.environ.get("SANDBOX_ARTIFACTS") or tempfile.mkdtemp(prefix="pluto-sandbox-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture()
def sandbox():
    options = StackOptions(pluto={"extract_seconds": 0.2, "score_seconds": 0.3},
                           nimrobo={"evaluation_delay": 0, "summary_delay": 0})
    with Stack(options) as stack:
        prepare(stack)
        web = WebSandbox(lambda: stack).start()
        try:
            yield stack, web
        finally:
            web.stop()


@pytest.fixture()
def page(browser, sandbox, artifacts, request):
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(sandbox[1].url)
    page.wait_for_selector("#channel-list button")
    yield page
    page.screenshot(path=str(artifacts / f"last-{request.node.name}.png"))  # how the page was left, pass or fail
    context.close()
    assert not errors, f"the page raised: {errors}"


def shot(page, artifacts, name, readme=None):
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    if readme and os.environ.get("PLUTO_README_SHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SHOTS / readme)
    return path


def drop_csv(page, selector, name, content):
    """Drop a file onto ``selector`` as a person would drag it from their desktop."""
    data = page.evaluate_handle("""([name, b64]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: "text/csv"}));
        return transfer;
    }""", [name, base64.b64encode(content).decode()])
    page.dispatch_event(selector, "drop", {"dataTransfer": data})


def field(modal, label):
    return modal.locator(f".input-block:has(label.input-label:text-is('{label}')) .bk-input").first


def modal_titled(page, title):
    modal = page.locator(f"form.modal:has(h2:text-is('{title}'))")
    modal.wait_for(timeout=WAIT)
    return modal


def close_outcome(page):
    """After a submission: the modal closes, or becomes an outcome without a submit button that is closed."""
    page.wait_for_function("() => !document.querySelector('form.modal') || "
                           "!document.querySelector('form.modal footer button[type=submit]')", timeout=WAIT)
    if page.locator("form.modal").count():
        page.locator("form.modal footer button.btn").first.click()
    page.wait_for_function("() => !document.querySelector('form.modal')", timeout=WAIT)


def test_the_tour_clicked_through_in_the_browser(page, sandbox, artifacts):
    stack, _ = sandbox
    tour = page.locator("#tour li")
    assert tour.count() >= 5

    # 1. a CSV dropped on the composer is scored; the shortlist and its chart arrive in the thread
    drop_csv(page, "#composer", "engineers.csv", CSV)
    page.locator(".message .file-name:text-is('engineers.csv')").wait_for(timeout=WAIT)
    page.locator("#messages .replies button").first.wait_for(timeout=WAIT)
    page.locator("#messages .replies button").first.click()
    thread = page.locator("#thread")
    thread.locator(".block-header:has-text('Shortlist')").wait_for(timeout=WAIT)
    chart = thread.locator("img[alt^='Histogram of the final scores']")
    chart.wait_for(timeout=WAIT)
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=chart.element_handle(), timeout=WAIT)
    assert page.evaluate("(img) => img.naturalWidth", chart.element_handle()) == 800  # the PNG, served
    page.locator("#tour li.done").first.wait_for(timeout=WAIT)
    chart.evaluate("(node) => node.scrollIntoView({block: 'end'})")
    shot(page, artifacts, "1-shortlist", readme="sandbox-shortlist.png")

    # the ranking CSV opens as a table
    thread.locator(".file:has(.file-name:text-is('Full ranking · engineers.csv')) button:text-is('Open')").click()
    table = page.locator("#dialog-root table.csv")
    table.wait_for(timeout=WAIT)
    assert table.locator("th").first.inner_text() == "rank" and table.locator("tbody tr").count() >= 3
    page.locator("#dialog-root button[aria-label='Close']").click()

    # 2. open a candidate: the details modal
    ranked = stack.services.scoring.latest(CHANNEL).candidates
    thread.locator("button.btn:text-is('Details')").first.click()
    details = modal_titled(page, "Candidate")
    details.locator(f".block-header:text-is('{ranked[0].name}')").wait_for(timeout=WAIT)
    shot(page, artifacts, "2-candidate")
    details.locator("footer button:text-is('Close')").click()
    details.wait_for(state="detached", timeout=WAIT)

    # 3. start an interview: the card in the thread, the room link only for me
    thread.locator("button.btn:text-is('Start interview')").first.click()
    private = thread.locator(".message.ephemeral:has-text('is ready')")
    private.wait_for(timeout=WAIT)
    assert "Only visible to you" in private.inner_text()
    shot(page, artifacts, "3-interview")
    # the bot mentioned in the thread: the interview assistant answers there
    mark = len(stack.slack.timeline)
    before = thread.locator(".message").count()
    page.locator("#thread-input").fill("@Pluto what should I ask about their last project?")
    page.locator("#thread-input").press("Enter")
    answer = stack.slack.wait_for(lambda: [e for e in stack.slack.timeline_since(mark)
                                           if e["kind"] in ("message", "ephemeral") and e.get("thread_ts")], timeout=30)
    page.wait_for_function(f"() => document.querySelectorAll('#thread .message').length >= {before + 2}", timeout=WAIT)
    assert thread.locator(".message:has(.who:text-is('You')):has-text('ask about their last project')").count() == 1
    assert answer

    # 4. create voice links with the modal: a required field left empty is flagged; sent with the four prompt
    # sections empty, the form comes back with them drafted from the brief, to review; then it is sent
    page.locator("#composer-input").fill("/voice")
    page.locator("#hints button:has-text('/voicelink')").click()
    page.locator("#composer-input").type("create")
    page.locator("#composer-input").press("Enter")
    form = modal_titled(page, "Create voice links")
    field(form, "Candidates (one name per line)").fill("Ada Lovelace\nAlan Turing")
    form.locator("footer button[type=submit]").click()
    form.locator(".input-block.has-error .error").first.wait_for(timeout=WAIT)
    assert "required" in form.locator(".input-block.has-error .error").first.inner_text()
    field(form, "Job title").fill("Backend Engineer")
    form.locator("footer button[type=submit]").click()
    page.wait_for_function("() => [...document.querySelectorAll('form.modal textarea')].filter(t => t.value).length >= 5",
                           timeout=WAIT)
    assert field(modal_titled(page, "Create voice links"), "Job title").input_value() == "Backend Engineer"
    # the bot's own check, shown under its field (response_action errors), then corrected
    form = modal_titled(page, "Create voice links")
    field(form, "Time limit (1–60 minutes)").fill("99")
    form.locator("footer button[type=submit]").click()
    error = form.locator(".input-block.has-error .error")
    error.first.wait_for(timeout=WAIT)
    assert "60" in error.first.inner_text()
    shot(page, artifacts, "4-form-error")
    field(form, "Time limit (1–60 minutes)").fill("10")
    modal_titled(page, "Create voice links").locator("footer button[type=submit]").click()
    done = page.locator("form.modal .modal-body:has-text('links for Backend Engineer')")
    done.wait_for(timeout=WAIT)  # the form becomes its outcome; the links went to my DMs
    page.locator("form.modal footer button:text-is('Close')").click()
    page.locator("#links li[data-label='Ada Lovelace']").wait_for(timeout=WAIT)
    assert stack.nimrobo.links, "no voice links were created"

    # 5. complete one from the sandbox panel: the completed interview is posted to the channel
    page.locator("#links li[data-label='Ada Lovelace'] button:text-is('Complete')").click()
    page.locator("#messages .block-header:has-text('Interview completed')").wait_for(timeout=60_000)
    shot(page, artifacts, "4-completed")

    # 6. voice-screen the top 3 from the shortlist's select, then create the links from the prefilled form
    page.locator("#messages .replies button").first.click()
    thread.locator("select[data-action-id='screen_top_pick']").select_option(label="Top 3")
    screen = modal_titled(page, "Voice-screen top 3")
    page.wait_for_function("() => [...document.querySelectorAll('form.modal textarea')].filter(t => t.value).length >= 5",
                           timeout=WAIT)
    screen.locator("footer button[type=submit]").click()
    close_outcome(page)
    board = thread.locator(".message:has(.block-header:has-text('Screening board'))")
    board.wait_for(timeout=WAIT)
    top = ranked[0].name
    page.locator(f"#links li[data-label='{top}'] button:text-is('Complete')").last.click()
    board.locator(f".text:has-text('{top}'):has-text('Evaluation')").wait_for(timeout=60_000)

    # 7. decide on the board and chart it; an outsider is refused
    board.locator("button.btn.primary:text-is('Advance')").first.click()
    board.locator(".text:has-text('Advanced')").wait_for(timeout=WAIT)
    board.locator("button.btn:text-is('Chart')").click()
    thread.locator("img[alt^='Scatter chart']").wait_for(timeout=WAIT)
    assert top not in thread.locator("img[alt^='Scatter chart']").get_attribute("alt")
    board.evaluate("(node) => node.scrollIntoView({block: 'start'})")
    shot(page, artifacts, "5-board", readme="sandbox-board.png")
    page.locator("#acting-user").select_option(OUTSIDER)
    page.locator("#thread .message:has(.block-header:has-text('Screening board')) button.btn.danger:text-is('Reject')"
                 ).first.click()
    page.locator("#dialog-root button:text-is('Reject')").click()  # the confirm dialog
    in_channel = lambda: [m for m in stack.slack.ephemerals(OUTSIDER) + stack.slack.responses(OUTSIDER)  # noqa: E731
                          if "can't show you" in m["text"]]
    stack.slack.wait_for(lambda: in_channel() or [m for m in stack.slack.dms(OUTSIDER) if "can't show" in m["text"]])
    if not in_channel():  # Slack refused the ephemeral (not in the channel): the bot said it by DM
        page.locator("#app-list button").click()
        page.locator("#tab-messages").click()
    page.locator(".message:has-text(\"can't show you\")").first.wait_for(timeout=WAIT)
    shot(page, artifacts, "6-outsider")
    assert "Rejected" not in str(stack.slack.messages(CHANNEL))
    page.locator("#acting-user").select_option(USER)

    # App Home: the recruiter's dashboard, with the board
    page.locator("#app-list button").click()
    page.locator("#tab-home").click()
    home = page.locator("#home")
    home.locator(".block-header:has-text('your hiring')").wait_for(timeout=WAIT)
    assert "engineers.csv" in home.inner_text()


GALLERY = [
    {"type": "header", "text": {"type": "plain_text", "text": "Block Kit gallery :tada:"}},
    {"type": "section", "block_id": "s1", "text": {"type": "mrkdwn", "text":
     "*bold* _italic_ ~strike~ `code` <https://example.com|a link> <@U_ALICE> <#C_HIRING|hiring> :white_check_mark:\n"
     "> quoted · <!date^1767225600^{date_short}|Jan 1, 2026>"},
     "accessory": {"type": "overflow", "action_id": "g_overflow", "options": [
         {"text": {"type": "plain_text", "text": "Edit"}, "value": "edit"},
         {"text": {"type": "plain_text", "text": "Remove"}, "value": "remove"}]}},
    {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Score*\n91"}, {"type": "mrkdwn", "text": "*Tier*\nTop"}]},
    {"type": "divider"},
    {"type": "actions", "block_id": "a1", "elements": [
        {"type": "button", "action_id": "g_ok", "text": {"type": "plain_text", "text": "Approve"}, "style": "primary"},
        {"type": "button", "action_id": "g_no", "text": {"type": "plain_text", "text": "Delete"}, "style": "danger",
         "confirm": {"title": {"type": "plain_text", "text": "Delete it?"}, "text": {"type": "mrkdwn", "text": "Sure?"},
                     "confirm": {"type": "plain_text", "text": "Delete"}, "deny": {"type": "plain_text", "text": "Keep"}}},
        {"type": "static_select", "action_id": "g_pick", "placeholder": {"type": "plain_text", "text": "Pick one"},
         "options": [{"text": {"type": "plain_text", "text": "One"}, "value": "1"}]},
        {"type": "users_select", "action_id": "g_user", "placeholder": {"type": "plain_text", "text": "Someone"}},
        {"type": "conversations_select", "action_id": "g_conv", "placeholder": {"type": "plain_text", "text": "Where"}}]},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "context *line*"}]},
    {"type": "rich_text", "elements": [{"type": "rich_text_list", "style": "bullet", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "first", "style": {"bold": True}}]},
        {"type": "rich_text_section", "elements": [{"type": "user", "user_id": "U_ALICE"}]}]}]},
]

EVERY_INPUT = {"type": "modal", "callback_id": "gallery", "title": {"type": "plain_text", "text": "Every input"},
               "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
               "blocks": [
    {"type": "input", "block_id": "text", "label": {"type": "plain_text", "text": "Text"},
     "element": {"type": "plain_text_input", "action_id": "v", "multiline": True}},
    {"type": "input", "block_id": "num", "label": {"type": "plain_text", "text": "Number"},
     "element": {"type": "number_input", "action_id": "v", "is_decimal_allowed": False}},
    {"type": "input", "block_id": "mail", "optional": True, "label": {"type": "plain_text", "text": "Email"},
     "element": {"type": "email_text_input", "action_id": "v"}},
    {"type": "input", "block_id": "url", "optional": True, "label": {"type": "plain_text", "text": "URL"},
     "element": {"type": "url_text_input", "action_id": "v"}},
    {"type": "input", "block_id": "pick", "label": {"type": "plain_text", "text": "Static"},
     "element": {"type": "static_select", "action_id": "v", "options": [
         {"text": {"type": "plain_text", "text": "Red"}, "value": "red"},
         {"text": {"type": "plain_text", "text": "Blue"}, "value": "blue"}]}},
    {"type": "input", "block_id": "many", "optional": True, "label": {"type": "plain_text", "text": "Multi"},
     "element": {"type": "multi_static_select", "action_id": "v", "options": [
         {"text": {"type": "plain_text", "text": "A"}, "value": "a"}, {"text": {"type": "plain_text", "text": "B"}, "value": "b"}]}},
    {"type": "input", "block_id": "who", "optional": True, "label": {"type": "plain_text", "text": "User"},
     "element": {"type": "users_select", "action_id": "v"}},
    {"type": "input", "block_id": "where", "optional": True, "label": {"type": "plain_text", "text": "Channel"},
     "element": {"type": "channels_select", "action_id": "v"}},
    {"type": "input", "block_id": "boxes", "optional": True, "label": {"type": "plain_text", "text": "Checkboxes"},
     "element": {"type": "checkboxes", "action_id": "v", "options": [
         {"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"}]}},
    {"type": "input", "block_id": "radio", "optional": True, "label": {"type": "plain_text", "text": "Radio"},
     "element": {"type": "radio_buttons", "action_id": "v", "options": [
         {"text": {"type": "plain_text", "text": "Left"}, "value": "l"}, {"text": {"type": "plain_text", "text": "Right"}, "value": "r"}]}},
    {"type": "input", "block_id": "day", "optional": True, "label": {"type": "plain_text", "text": "Date"},
     "element": {"type": "datepicker", "action_id": "v"}},
    {"type": "input", "block_id": "time", "optional": True, "label": {"type": "plain_text", "text": "Time"},
     "element": {"type": "timepicker", "action_id": "v"}},
    {"type": "input", "block_id": "file", "optional": True, "label": {"type": "plain_text", "text": "File"},
     "element": {"type": "file_input", "action_id": "v"}},
]}


def test_the_score_form_in_the_browser_checks_the_file_before_it_asks_for_the_rest(page, sandbox, tmp_path):
    stack, _ = sandbox
    letter, good = tmp_path / "letter.csv", tmp_path / "team.csv"
    letter.write_text("Dear hiring team, I am writing to apply for the engineering role and attach my CV.\n"
                      "I have worked on compilers, databases and teams of every size for many years.\n")
    good.write_bytes(CSV)
    page.locator("#composer-input").fill("/pluto score")
    page.locator("#composer-input").press("Enter")
    form = modal_titled(page, "Score candidates")
    assert form.locator("label.input-label:text-is('Job description')").count() == 0  # the file first
    form.locator("input[type=file]").set_input_files(str(letter))
    form.locator(".hint:has-text('Attached: letter.csv')").wait_for(timeout=WAIT)
    form.locator("footer button[type=submit]").click()
    form.locator(".modal-body:has-text('this looks like text, not a table of candidates')").wait_for(timeout=WAIT)
    assert form.locator("label.input-label:text-is('Job description')").count() == 0
    form.locator("footer button[type=submit]:text-is('Choose another file')").click()
    form.locator("footer button[type=submit]:text-is('Next')").wait_for(timeout=WAIT)
    assert form.locator(".hint:has-text('Attached')").count() == 0  # step 1 again, empty as Slack shows it
    form.locator("input[type=file]").set_input_files(str(good))
    form.locator(".hint:has-text('Attached: team.csv')").wait_for(timeout=WAIT)
    form.locator("footer button[type=submit]").click()
    form.locator(".modal-body:has-text('team.csv: 6 candidates')").wait_for(timeout=WAIT)
    field(form, "Job description").fill("Backend engineer")
    assert field(form, "Top N to show").input_value() == "6"
    form.locator("footer button[type=submit]:text-is('Score')").click()
    page.wait_for_function("() => !document.querySelector('form.modal')", timeout=WAIT)
    stack.slack.wait_for(lambda: stack.pluto.uploads)
    assert stack.pluto.uploads[0]["job_description"] == "Backend engineer" and len(stack.pluto.uploads) == 1


def test_block_kit_and_every_modal_input_render_and_submit_as_slack_sends_them(page, sandbox, artifacts, tmp_path):
    stack, web = sandbox
    from slack_sdk import WebClient

    client = WebClient(token=stack.bot_token, base_url=stack.slack.url + "/api/")
    client.chat_postMessage(channel=CHANNEL, text="gallery", blocks=GALLERY)
    message = page.locator(".message:has(.block-header:has-text('Block Kit gallery'))")
    message.wait_for(timeout=WAIT)
    html = message.inner_html()
    for shown in ("<b>bold</b>", "<i>italic</i>", "<s>strike</s>", "<code>code</code>", 'href="https://example.com"',
                  "@Alice", "#hiring", "✅", "<blockquote>", "Jan 1, 2026", "btn primary", "btn danger",
                  "block-divider", "block-context", "<li>", "fields"):
        assert shown in html, shown
    assert message.locator("select[data-action-id='g_user'] option").count() >= 3  # the workspace's people
    message.locator("button:text-is('Delete')").click()  # a confirm dialog first; Keep sends nothing
    page.locator("#dialog-root .dialog h3:text-is('Delete it?')").wait_for()
    calls = len(stack.slack.timeline)
    page.locator("#dialog-root button:text-is('Keep')").click()
    assert len(stack.slack.timeline) == calls
    message.locator("button[aria-label='More actions']").click()
    assert message.locator(".overflow .menu button").all_inner_texts() == ["Edit", "Remove"]
    shot(page, artifacts, "7-gallery")

    # a modal with every input type; a required field is flagged; the submission has Slack's value shapes
    sent = web.submitted
    trigger = stack.slack.issue_trigger_id(USER)
    client.views_open(trigger_id=trigger, view=EVERY_INPUT)
    modal = modal_titled(page, "Every input")
    modal.locator("footer button[type=submit]").click()
    assert modal.locator(".has-error .error").count() == 3 and not sent  # text, number, static: required
    field(modal, "Text").fill("two\nlines")
    field(modal, "Number").fill("7")
    field(modal, "Email").fill("ada@example.com")
    modal.locator(".input-block[data-block-id='pick'] select").select_option("blue")
    modal.locator(".input-block[data-block-id='many'] select").select_option(["a", "b"])
    modal.locator(".input-block[data-block-id='who'] select").select_option(TEAMMATE)
    modal.locator(".input-block[data-block-id='boxes'] input").check()
    modal.locator(".input-block[data-block-id='radio'] input[value='r']").check()
    modal.locator(".input-block[data-block-id='day'] input").fill("2026-12-24")
    modal.locator(".input-block[data-block-id='time'] input").fill("09:30")
    upload = tmp_path / "names.csv"
    upload.write_text("name\nAda\n")
    modal.locator(".input-block[data-block-id='file'] input[type=file]").set_input_files(str(upload))
    modal.locator(".input-block[data-block-id='file'] .hint:has-text('names.csv')").wait_for(timeout=WAIT)
    shot(page, artifacts, "8-every-input")
    # views.push: a second view on top (2 of 2); closing it goes back to the form as it was typed
    pushed = {"type": "modal", "title": {"type": "plain_text", "text": "Pushed"},
              "close": {"type": "plain_text", "text": "Back"},
              "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "on top"}}]}
    client.views_push(trigger_id=stack.slack.issue_trigger_id(USER), view=pushed)
    on_top = modal_titled(page, "Pushed")
    assert on_top.locator(".stack-depth").inner_text() == "2 of 2"
    on_top.locator("footer button:text-is('Back')").click()
    modal = modal_titled(page, "Every input")
    assert field(modal, "Number").input_value() == "7"
    modal.locator("footer button[type=submit]").click()
    page.wait_for_function("() => !document.querySelector('form.modal .has-error')")
    for _ in range(100):
        if web.submitted:
            break
        page.wait_for_timeout(50)
    values = web.submitted[-1]
    assert values["text"]["v"] == {"type": "plain_text_input", "value": "two\nlines"}
    assert values["num"]["v"] == {"type": "number_input", "value": "7"}
    assert values["pick"]["v"]["selected_option"]["value"] == "blue"
    assert [o["value"] for o in values["many"]["v"]["selected_options"]] == ["a", "b"]
    assert values["who"]["v"] == {"type": "users_select", "selected_user": TEAMMATE}
    assert values["boxes"]["v"]["selected_options"][0]["value"] == "yes"
    assert values["radio"]["v"]["selected_option"]["value"] == "r"
    assert values["day"]["v"]["selected_date"] == "2026-12-24" and values["time"]["v"]["selected_time"] == "09:30"
    assert values["file"]["v"]["files"][0]["name"] == "names.csv"


TEAMMATE = "U_ALICE"
