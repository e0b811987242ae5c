"""The browser sandbox with two workspaces (``python3 dev.py run --workspaces 2``), in Debian's chromium
driven by Playwright: the real bot in OAuth mode, installed in Acme and Beta through its /slack/install;
the page shows the two side by side, what is typed in Beta's column (a command, a mention, App Home) is answered there only, and Beta's
panel uninstalls and reinstalls the app there."""

from __future__ import annotations

import pytest

from sandbox.console import USER
from sandbox.stack import Stack, StackOptions, install_everywhere
from sandbox.web import WebSandbox, prepare
from tests.test_web_sandbox_e2e import WAIT, artifacts, browser, shot  # noqa: F401 - fixtures and helpers

ACME, BETA = "T0SANDBOX", "T0BETA"
MENTION_ANSWER = "ask the interview assistant"  # in the bot's answer to "@Pluto help" (not in /pluto help's)


@pytest.fixture()
def two_workspaces():
    options = StackOptions(scheduler=False, oauth=True, team_name="Acme", workspaces={BETA: "Beta"})
    with Stack(options) as stack:
        prepare(stack)
        install_everywhere(stack, USER)
        web = WebSandbox(lambda: stack).start()
        try:
            yield stack, web
        finally:
            web.stop()


def test_two_workspaces_side_by_side_each_answered_in_its_own_column(browser, two_workspaces, artifacts):  # noqa: F811
    stack, web = two_workspaces
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(web.url)
        columns = {team: page.frame_locator(f".ws-column[data-team='{team}'] iframe") for team in (ACME, BETA)}
        for team, name in ((ACME, "Acme"), (BETA, "Beta")):
            column = columns[team]
            column.locator(f"#sidebar .workspace[data-team='{team}']:has-text('{name}')").wait_for(timeout=WAIT)
            assert "installed" in column.locator("#sidebar .workspace .sub").inner_text()
            column.locator("#channel-list button:has-text('sandbox')").wait_for(timeout=WAIT)
        acme, beta = columns[ACME], columns[BETA]

        beta.locator("#composer-input").fill("/pluto help")
        beta.locator("#composer-input").press("Enter")
        beta.locator("#messages .block-header:has-text('Candidate scoring')").wait_for(timeout=WAIT)
        # a mention: the bot answers with Beta's token, so the answer is in Beta's Slack only
        beta.locator("#composer-input").fill("@Pluto help")
        beta.locator("#composer-input").press("Enter")
        beta.locator(f"#messages :text('{MENTION_ANSWER}')").first.wait_for(timeout=WAIT)
        assert any(MENTION_ANSWER in (e.get("text") or "") for e in stack.slack.workspace(BETA).ephemerals(USER))
        assert not any(MENTION_ANSWER in (e.get("text") or "") for e in stack.slack.ephemerals(USER))
        # Acme's column shows none of it
        acme.locator("#messages .empty").wait_for(timeout=WAIT)
        assert acme.locator("#messages .block-header:has-text('Candidate scoring')").count() == 0
        assert acme.locator(f"#messages :text('{MENTION_ANSWER}')").count() == 0
        # Beta's App Home, published with Beta's token: in Beta only
        beta.locator("#app-list button").click()
        beta.locator("#home .block-header:has-text('Pluto Bot · your hiring')").wait_for(timeout=WAIT)
        assert stack.slack.workspace(BETA).home(USER) is not None and stack.slack.home(USER) is None
        shot(page, artifacts, "workspaces-side-by-side")

        # Beta leaves (its panel's button) and comes back through /slack/install; Acme stays installed
        beta.locator("#workspace-install button:has-text('Uninstall Pluto Bot from Beta')").click()
        beta.locator("#sidebar .workspace .sub:text-is('Pluto Bot not installed')").wait_for(timeout=WAIT)
        assert not stack.services.workspaces.is_installed(BETA) and stack.slack.workspace(BETA).tokens("bot") == []
        assert acme.locator("#sidebar .workspace .sub").inner_text() == "Pluto Bot installed (OAuth)"
        beta.locator("#workspace-install button:has-text('Install Pluto Bot in Beta')").click()
        beta.locator("#sidebar .workspace .sub:text-is('Pluto Bot installed (OAuth)')").wait_for(timeout=WAIT)
        assert stack.services.workspaces.is_installed(BETA)
    finally:
        page.screenshot(path=str(artifacts / "last-workspaces-side-by-side.png"))
        context.close()
    assert not errors, f"the page raised: {errors}"
