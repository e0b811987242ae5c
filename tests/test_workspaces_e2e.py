"""Two workspaces, one bot (OAuth mode, sandbox/stack.py ``oauth=True``): the same flows in each, and nothing shared.

Acme (the test bed's first workspace) and Beta are both installed through ``/slack/install``; tokens live a few
seconds and rotate while the flows run. Each flow (scoring a CSV, voice links, a completed interview) happens in
the workspace that asked, through that workspace's token (the test bed serves a call in the workspace its token
belongs to). Every id Beta's flows produced, used from Acme — in a command, a button, an options request, a view
submission, by Acme's workspace admin too — gets the polite refusal or "not found", never Beta's data, and changes
nothing in Beta. An Enterprise Grid org-wide install is one workspace for all of the org's teams.

One stack per database (SQLite, PostgreSQL) per worker; every test makes what it needs (``flows`` is cached on the
stack, so a worker does each workspace's flows once).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from sandbox.signer import _block_buttons
from sandbox.stack import Stack, StackOptions
from services.store import in_workspace
from tests.conftest import module_database
from tests.test_voicelink_e2e import SECTIONS, form

ACME, BETA = "T0SANDBOX", "T0BETA"
ORG, ORG_ONE, ORG_TWO = "E0GRID", "T0GRID1", "T0GRID2"
SOLO_ORG, SOLO_ONE, SOLO_TWO = "E0SOLO", "T0SOLO1", "T0SOLO2"  # a Grid org whose teams install the app each on its own
#: Rotating tokens live TOKEN_LIFETIME seconds and are refreshed ROTATE_SECONDS before they expire (a request's
#: slow work keeps the token its request came with: it has ROTATE_SECONDS left at least). The rotation test makes
#: them live SHORT_LIFETIME seconds while a run progresses.
TOKEN_LIFETIME, ROTATE_SECONDS, SHORT_LIFETIME = 30.0, 10.0, 5.0

ACME_CSV = (b"name,email,current_title,years_experience,skills\n"
            b"Ada Lovelace,ada@acme.example,Engineer,9,python|math\n"
            b"Alan Turing,alan@acme.example,Researcher,12,crypto|math\n")
BETA_CSV = (b"name,email,current_title,years_experience,skills\n"
            b"Zelda Quokka,zelda.quokka@beta.example,Engineer,9,python|math\n"
            b"Yusuf Wombat,yusuf.wombat@beta.example,Researcher,12,crypto|math\n"
            b"Xena Numbat,xena.numbat@beta.example,Admiral,20,cobol|compilers\n")
BETA_ROLE = "Beta Confidential Role"
#: What only Beta's flows put anywhere: none of it may ever show in Acme.
BETA_SECRETS = ("Zelda Quokka", "Yusuf Wombat", "Xena Numbat", "beta.example", BETA_ROLE)


@dataclass
class Side:
    """One workspace as a test drives it: its stand-in (what the bot posted there) and signer (Slack's payloads)."""

    team: str
    standin: Any
    signer: Any
    user: str
    channel: str
    admin: str = ""
    cache: dict[str, Any] = field(default_factory=dict)


def watch_refusals(standin: Any, seen: list[tuple[str, str, str]]) -> None:
    """Record every call the test bed refuses for its token (token_expired, invalid_auth, ...)."""
    original = standin._refusal

    def refusal(method: str, grant: Any) -> str | None:
        problem = original(method, grant)
        if problem:
            seen.append((standin.team_id, method, problem))
        return problem

    standin._refusal = refusal


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request):
    database = module_database(request, "ws")
    options = StackOptions(oauth=True, token_rotation=True, token_lifetime=TOKEN_LIFETIME, workspaces={BETA: "Beta"},
                           pluto={"extract_seconds": 0.5, "score_seconds": 3.0},
                           nimrobo={"evaluation_delay": 0.2, "summary_delay": 0.2},
                           settings={"slack_token_rotation_minutes": ROTATE_SECONDS / 60}, **database)
    with Stack(options) as s:
        s.refused = []
        for team in (ACME, BETA):
            watch_refusals(s.slack.workspace(team), s.refused)
            assert s.install(team).status_code == 200
        for team in (ACME, BETA):  # each workspace's admin (users.info says so), a recruiter
            ws = side(s, team)
            ws.standin.add_user(ws.admin, f"{team} Admin", is_admin=True)
            ws.standin.add_user(ws.user, f"{team} Recruiter")
        yield s
    # Whatever the tests did, no call was made with a token that had expired or was not the workspace's.
    assert not s.refused, s.refused


def side(stack: Stack, team: str) -> Side:
    """Workspace ``team`` as the tests drive it (its recruiter, its admin and its channel)."""
    sides = stack.__dict__.setdefault("sides", {})
    if team not in sides:
        standin, signer = stack.workspace(team)
        short = team.removeprefix("T0").lower()
        sides[team] = Side(team, standin, signer, user=f"U_{short.upper()}_RECRUITER", channel=f"C_{short.upper()}",
                           admin=f"U_{short.upper()}_ADMIN")
    return sides[team]


# -- the flows -----------------------------------------------------------------------------------------------
def shortlists(ws: Side) -> list[dict[str, Any]]:
    return [m for m in ws.standin.messages(ws.channel)
            if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed"]


def score(ws: Side, data: bytes, name: str = "candidates.csv") -> dict[str, Any]:
    """A recruiter mentions the bot with a CSV in the workspace's channel; the shortlist it posts there."""
    before = len(shortlists(ws))
    file = ws.standin.add_file(name, data, user=ws.user)
    text = f"<@{ws.standin.bot_user_id}> score for a Staff Engineer"
    posted = ws.standin.user_post(ws.channel, ws.user, text, files=[file])
    ws.signer.app_mention(text, files=[file], user=ws.user, channel=ws.channel, ts=posted["ts"])
    shortlist = ws.standin.wait_for(lambda: shortlists(ws)[before:], timeout=60)[0]
    return {"file": file, "shortlist": shortlist, "root_ts": shortlist["thread_ts"]}


def completed_posts(ws: Side) -> list[dict[str, Any]]:
    return [m for m in ws.standin.messages(ws.channel)
            if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"]


def make_links(stack: Stack, ws: Side, labels: tuple[str, ...], role: str) -> list[dict[str, Any]]:
    """``/voicelink create`` (interview style) in the workspace; the links (as Nimrobo holds them) once DM'd."""
    known = set(stack.nimrobo.links)
    views = len(ws.standin.views(user=ws.user))
    assert ws.signer.command("/voicelink", "create", user=ws.user, channel=ws.channel).status_code == 200
    view = ws.standin.wait_for(lambda: ws.standin.views(user=ws.user)[views:])[-1]
    ws.signer.view_submission(view, form(view, name=role, labels="\n".join(labels), **SECTIONS), user=ws.user)
    ws.standin.wait_for(lambda: [m for m in ws.standin.dms(ws.user) if labels[0] in str(m["blocks"])], timeout=30)
    return [link for link_id, link in stack.nimrobo.links.items() if link_id not in known]


def flows(stack: Stack, team: str) -> Side:
    """The workspace's flows, once per stack: a scored CSV, voice links, a completed interview. Beta also opens an
    interview room and voice-screens its top two (links on a screening board), so every kind of id exists there."""
    ws = side(stack, team)
    if ws.cache:
        return ws
    beta = team == BETA
    ws.cache.update(score(ws, BETA_CSV if beta else ACME_CSV))
    with in_workspace(team):
        ws.cache["run_id"] = stack.services.store.rows("scoring_runs")[0]["id"]
    if beta:
        start_interview(ws)
        links = voice_screen(stack, ws, top=2)
    else:
        links = make_links(stack, ws, ("Grace Hopper", "Linus Torvalds"), "Acme Backend Role")
    session = stack.nimrobo.start_session(links[0]["id"])
    stack.nimrobo.complete_session(session)
    ws.cache.update(links=links, project_id=links[0]["projectId"], session=session,
                    completed=ws.standin.wait_for(lambda: completed_posts(ws), timeout=30)[0])
    if beta:  # the board shows the interview once its evaluation is saved to Pluto: nothing more changes after
        def board() -> str:
            return str(ws.standin.message(ws.channel, with_event(ws, "screening_board")[0]["ts"])["blocks"])
        ws.standin.wait_for(lambda: stack.pluto.saved_analytics and "completed" in board()
                            and "Not saved to Pluto yet" not in board(), timeout=30)
    idle(stack, team)  # the score chart and the rest of what the flows post are out too
    return ws


def with_event(ws: Side, event_type: str) -> list[dict[str, Any]]:
    return [m for m in ws.standin.messages(ws.channel) if (m.get("metadata") or {}).get("event_type") == event_type]


def start_interview(ws: Side) -> None:
    """Start interview on the shortlist's first candidate: the Interview card (its room) in the run's thread."""
    shortlist = ws.standin.message(ws.channel, ws.cache["shortlist"]["ts"])
    block, button = next((b, e) for b in shortlist["blocks"] for e in _block_buttons(b)
                         if e["text"]["text"] == "Start interview")
    surface = next(s for s in ws.standin.surfaces(ws.user) if s["ts"] == shortlist["ts"])
    assert ws.signer.activate(surface, block, button, user=ws.user).status_code == 200
    ws.standin.wait_for(lambda: with_event(ws, "pluto_interview_card"), timeout=30)


def voice_screen(stack: Stack, ws: Side, top: int) -> list[dict[str, Any]]:
    """"Voice-screen top N" on the shortlist: the links (as Nimrobo holds them) once the board is posted."""
    known = set(stack.nimrobo.links)
    shortlist = ws.standin.message(ws.channel, ws.cache["shortlist"]["ts"])
    tools = next(b for b in shortlist["blocks"] if (b.get("block_id") or "").startswith("screen_top|"))
    ws.signer.block_action("screen_top_pick", None, block_id=tools["block_id"], user=ws.user, channel=ws.channel,
                           message=shortlist, action_type="static_select",
                           selected_option={"value": f"{ws.cache['run_id']}|{top}"})
    view = ws.standin.wait_for(lambda: [v for v in ws.standin.views(user=ws.user)
                                        if v["title"]["text"] == f"Voice-screen top {top}" and v.get("submit")])[-1]
    ws.signer.view_submission(view, form(view, name=BETA_ROLE), user=ws.user)
    ws.standin.wait_for(lambda: with_event(ws, "screening_board"), timeout=30)
    return ws.standin.wait_for(lambda: [link for link_id, link in stack.nimrobo.links.items()
                                        if link_id not in known] or None, timeout=30)


def said(ws: Side) -> str:
    """Everything the bot posted in the workspace (messages, ephemerals, responses, views, Home, files)."""
    return json.dumps(ws.standin.timeline, default=str)


# -- 1. the same flows in each workspace ---------------------------------------------------------------------
def test_scoring_posts_the_shortlist_in_the_workspace_that_asked(stack):
    acme, beta = flows(stack, ACME), flows(stack, BETA)
    for ws, other, names in ((acme, beta, ("Ada Lovelace", "Alan Turing")),
                             (beta, acme, ("Zelda Quokka", "Yusuf Wombat", "Xena Numbat"))):
        shortlist = ws.cache["shortlist"]
        assert shortlist["metadata"]["event_payload"]["candidates"] == len(names)
        assert all(name in str(shortlist["blocks"]) for name in names)
        # posted in this workspace's channel with its token: the other workspace's timeline never saw it
        assert not other.standin.messages(ws.channel)
        assert not any(name in said(other) for name in names)
        progress = [m for m in ws.standin.messages(ws.channel, thread_ts=ws.cache["root_ts"]) if m.get("updates")]
        assert progress and "100%" in str(progress[0]["blocks"])


def test_voice_links_are_dmed_and_the_completed_interview_posted_once_in_the_workspace_that_asked(stack):
    acme, beta = flows(stack, ACME), flows(stack, BETA)
    for ws, other in ((acme, beta), (beta, acme)):
        dms = [str(m["blocks"]) for m in ws.standin.dms(ws.user) if "/link/" in str(m["blocks"])]
        assert len(dms) == 1 and all(link["label"] in dms[0] for link in ws.cache["links"])
        assert not other.standin.dms(ws.user)
        posts = completed_posts(ws)
        assert [p["metadata"]["event_payload"]["session_id"] for p in posts] == [ws.cache["session"]]
        assert not [p for p in completed_posts(other) if p["metadata"]["event_payload"]["session_id"]
                    == ws.cache["session"]]
    # Once another interview of Acme's completes and is posted, the watcher has polled again without posting the
    # first twice, in either workspace.
    session = stack.nimrobo.start_session(acme.cache["links"][1]["id"])
    stack.nimrobo.complete_session(session)
    acme.standin.wait_for(lambda: len(completed_posts(acme)) == 2, timeout=30)
    assert [p["metadata"]["event_payload"]["session_id"] for p in completed_posts(beta)] == [beta.cache["session"]]
    assert not any(name in said(acme) for name in BETA_SECRETS)


# -- 2. isolation: every id of Beta's, used from Acme ----------------------------------------------------------
def beta_state(stack: Stack, beta: Side) -> dict[str, Any]:
    """What a change in Beta would show: its timeline, its store's rows, its project and links in Nimrobo."""
    with in_workspace(BETA):
        store = stack.services.store
        rows = {t: store.rows(t) for t in ("scoring_runs", "voice_links", "project_subscriptions", "session_watches")}
    project = dict(stack.nimrobo.projects[beta.cache["project_id"]])
    links = {link["id"]: dict(stack.nimrobo.links[link["id"]]) for link in beta.cache["links"]}
    return {"timeline": len(beta.standin.timeline), "rows": json.dumps(rows, default=str, sort_keys=True),
            "project": json.dumps(project, default=str, sort_keys=True),
            "links": json.dumps(links, default=str, sort_keys=True)}


def use_betas_ids_in_acme(stack: Stack, acme: Side, beta: Side, user: str) -> set[str]:
    """``user`` of Acme sends every id Beta's flows produced: in commands, buttons, options requests, forms.
    The action ids of the buttons pressed."""
    run_id, session, project = beta.cache["run_id"], beta.cache["session"], beta.cache["project_id"]
    link = beta.cache["links"][0]["id"]
    commands = [("/pluto", f"status {run_id}"), ("/pluto", "results"), ("/pluto", "candidate Zeld"),
                ("/pluto", f"candidate {run_id}"), ("/pluto", "export"), ("/pluto", "cancel candidates.csv"),
                ("/voicelink", f"status {session}"), ("/voicelink", f"watch {session}"),
                ("/voicelink", f"cancel {link}"), ("/voicelink", f"subscribe {project}"),
                ("/voicelink", f"list {project}"), ("/voicelink", f"project {project}"),
                ("/voicelink", f"use {project}"), ("/voicelink", "status Zeld")]
    for command, text in commands:
        assert acme.signer.command(command, text, user=user, channel=acme.channel).status_code == 200
    # every button Beta's people were shown, pressed in Acme with the same value (in Acme's channel and in Beta's);
    # a candidate's button also with Acme's own run id before Beta's candidate id
    pressed: set[str] = set()
    for surface in beta.standin.surfaces(beta.user):
        for block in surface["blocks"]:
            for button in _block_buttons(block):
                value = button.get("value") or ""
                mixed = [value.replace(run_id, acme.cache["run_id"])] if run_id in value else []
                for channel, sent in [(acme.channel, value), (beta.channel, value), *[(acme.channel, m) for m in mixed]]:
                    response = acme.signer.block_action(button["action_id"], sent, user=user, channel=channel,
                                                        block_id=block.get("block_id"), ephemeral=True,
                                                        message_ts=surface["ts"])
                    assert response.status_code == 200
                    pressed.add(button["action_id"])
    # Beta's CSV file, mentioned in Acme
    acme.signer.app_mention(f"<@{acme.standin.bot_user_id}> score", files=[beta.cache["file"]], user=user,
                            channel=acme.channel)
    # the project type-ahead: Beta's project is not among the options
    for action_id in ("voicelink_use_pick", "voicelink_project_find", "voicelink_study"):
        options = acme.signer.block_suggestion(action_id, BETA_ROLE.split()[0], user=user, channel=acme.channel)
        assert not options.problems, options.problems
        assert not any(BETA_ROLE in json.dumps(o) for o in options.options), options.options
    # view submissions carrying Beta's ids in private_metadata: Acme's own forms, their metadata Beta's
    for view, metadata, values in forms_with_beta_metadata(stack, acme, beta, user):
        assert acme.signer.view_submission({**view, "private_metadata": metadata}, values, user=user).status_code == 200
    return pressed


def test_every_id_from_beta_is_refused_in_acme_even_to_its_admin(stack):
    acme, beta = flows(stack, ACME), flows(stack, BETA)
    before, beta_said = beta_state(stack, beta), len(beta.standin.timeline)
    start = len(acme.standin.timeline)
    for user in (acme.user, acme.admin):
        pressed = use_betas_ids_in_acme(stack, acme, beta, user)
        # the shortlist's, the interview room card's, the screening board's and the completed interview's buttons
        assert {"pluto_details", "pluto_interview", "interview_invite", "board_details"} <= pressed, pressed
    # Everything Acme was told came from Acme's data only, and Beta saw nothing and changed nothing.
    idle(stack)
    leaked = [e for e in acme.standin.timeline[start:] if any(s in json.dumps(e, default=str) for s in BETA_SECRETS)]
    assert not leaked, json.dumps(leaked, default=str)[:3000]
    assert beta_state(stack, beta) == before, [(e["kind"], e.get("text"), str(e.get("blocks"))[:1500]) for e in beta.standin.timeline[beta_said:]]
    for user in (acme.user, acme.admin):  # each got the polite answers, as for an id that does not exist
        said_to = " ".join(r["text"] for r in acme.standin.timeline[start:] if r.get("user") == user)
        for words in ("can't show you that interview", "Project not found", "No candidate matching “Zeld”",
                      "That candidate is not in this shortlist", "not found among your links"):
            assert words in said_to, (user, words)


def beta_batch(stack: Stack) -> str:
    with in_workspace(BETA):
        return stack.services.store.rows("voice_batches")[0]["id"]


def idle(stack: Stack, team: str = ACME) -> None:
    """Wait until the bot has done everything it was asked: its work pool is idle and the workspace's outbox empty."""
    def done() -> bool:
        pool = stack.services.work.stats()
        with in_workspace(team):
            waiting = stack.services.outbox.stats().waiting
        return pool.running == 0 and pool.queued == 0 and waiting == 0

    stack.slack.wait_for(lambda: done() and done(), timeout=30)


def open_view(ws: Side, user: str, command: str, text: str, callback_id: str) -> dict[str, Any]:
    """The form a command opens in the workspace (once it is filled in, for forms that load first)."""
    before = len(ws.standin.views(user=user))
    assert ws.signer.command(command, text, user=user, channel=ws.channel).status_code == 200
    found = ws.standin.wait_for(lambda: [v for v in ws.standin.views(user=user)[before:]
                                         if v.get("callback_id") == callback_id], timeout=30)[-1]
    return ws.standin.view(found["id"]) or found


def forms_with_beta_metadata(stack: Stack, acme: Side, beta: Side, user: str) -> Iterator[tuple[dict, str, dict]]:
    """Forms Acme's bot opened (one at a time: opening one closes the last), each to be submitted with Beta's id in
    its private_metadata instead of its own: the project edit form (Beta's project), the voice-screen form (Beta's
    run), the review form (Beta's batch)."""
    edit = open_view(acme, user, "/voicelink", f"project edit {acme.cache['project_id']}", "voicelink_edit_project")
    yield edit, beta.cache["project_id"], {}
    create = open_view(acme, user, "/voicelink", "create", "voicelink_create")
    meta = json.loads(create.get("private_metadata") or "{}")
    screen = {**meta, "run_id": beta.cache["run_id"], "channel": beta.channel}
    yield create, json.dumps(screen), form(create, name="Screening", labels="Someone Else", **SECTIONS)
    review = {**open_view(acme, user, "/voicelink", "create", "voicelink_create"), "callback_id": "voicelink_review"}
    yield review, beta_batch(stack), {}


# -- 3. tokens rotate while a run progresses -------------------------------------------------------------------
def refreshes(stack: Stack) -> int:
    return len([c for c in stack.slack.api_calls("oauth.v2.access") if c["params"].get("grant_type") == "refresh_token"])


def test_tokens_expire_and_rotate_while_a_scoring_run_progresses_and_every_update_lands(stack):
    beta = side(stack, BETA)
    before, refused = refreshes(stack), len(stack.refused)
    # Tokens now live less than the rotation margin (each look-up refreshes one), from an install again, and the
    # run outlives two of them
    stack.slack.token_lifetime, stack.pluto.score_seconds = SHORT_LIFETIME, 2.5 * SHORT_LIFETIME
    try:
        assert stack.install(BETA).status_code == 200
        run = score(beta, BETA_CSV, name="long-run.csv")
    finally:
        stack.slack.token_lifetime, stack.pluto.score_seconds = TOKEN_LIFETIME, 3.0
    progress = [m for m in beta.standin.messages(beta.channel, thread_ts=run["root_ts"]) if m.get("updates")][0]
    assert progress["updates"] >= 3 and "100%" in str(progress["blocks"])  # one message, updated all along
    assert refreshes(stack) - before >= 2  # the test bed handed out new tokens during the run
    assert stack.refused[refused:] == []  # and no call came with one that had expired


# -- 4. an Enterprise Grid org-wide install is one workspace: the org's ------------------------------------------
def grid(stack: Stack) -> tuple[Side, Side]:
    """Two teams of one Enterprise Grid org, the app installed org-wide (once per stack)."""
    if ORG_ONE not in stack.slack.app.workspaces:
        for team, name in ((ORG_ONE, "Grid One"), (ORG_TWO, "Grid Two")):
            watch_refusals(stack.add_workspace(team, name, enterprise_id=ORG), stack.refused)
        assert stack.install(ORG_ONE, org_wide=True).status_code == 200
    one, two = side(stack, ORG_ONE), side(stack, ORG_TWO)
    two.user = one.user  # people of a Grid org have one user id in all its teams
    return one, two


def test_an_org_wide_install_is_scoped_by_the_enterprise(stack):
    one, two = grid(stack)
    acme = side(stack, ACME)
    assert stack.services.workspaces.get(ORG) is not None and stack.services.workspaces.get(ORG_ONE) is None
    score(one, b"name,email\nOrla Gridley,orla@grid.example\nOtto Gridman,otto@grid.example\n", name="grid.csv")
    # the org's two teams see one store: the run scored in Grid One is found from Grid Two ...
    assert two.signer.command("/pluto", "candidate Orla", user=two.user, channel=two.channel).status_code == 200
    answer = two.standin.wait_for(lambda: [r for r in two.standin.responses(two.user) if "Orla" in str(r)])[-1]
    assert "orla@grid.example" in str(answer) or "Orla Gridley" in str(answer["blocks"])
    assert "No candidate matching" not in answer["text"]
    with in_workspace(ORG):
        assert [r["filename"] for r in stack.services.store.rows("scoring_runs")] == ["grid.csv"]
    # ... and a workspace outside the org, even its admin, sees nothing of it
    start = len(acme.standin.timeline)
    acme.signer.command("/pluto", "candidate Orla", user=acme.admin, channel=acme.channel)
    refusal = acme.standin.wait_for(lambda: [r for r in acme.standin.responses(acme.admin)
                                             if "No candidate matching “Orla”" in r["text"]])[-1]
    assert "Gridley" not in json.dumps(acme.standin.timeline[start:], default=str) and refusal
    for team in (ACME, BETA):
        with in_workspace(team):
            assert "grid.csv" not in [r["filename"] for r in stack.services.store.rows("scoring_runs")]


def test_a_grid_team_installed_on_its_own_keeps_its_records_from_its_sibling_team(stack):
    """Two teams of one Enterprise Grid org, each installing the app on its own (not org-wide): each is a workspace
    of its own, keyed by its team (with the org's enterprise id), and a run scored in one is not found from the
    other, even by the same person (one user id across the org)."""
    if SOLO_ONE not in stack.slack.app.workspaces:
        for team, name in ((SOLO_ONE, "Solo One"), (SOLO_TWO, "Solo Two")):
            watch_refusals(stack.add_workspace(team, name, enterprise_id=SOLO_ORG), stack.refused)
            assert stack.install(team).status_code == 200
    one, two = side(stack, SOLO_ONE), side(stack, SOLO_TWO)
    two.user = one.user
    installations = stack.services.installs.installation_store
    for team in (SOLO_ONE, SOLO_TWO):
        workspace = stack.services.workspaces.get(team)
        assert workspace.enterprise_id == SOLO_ORG and not workspace.is_enterprise_install
        installed = installations.find_installation(enterprise_id=SOLO_ORG, team_id=team)
        assert installed.team_id == team and not installed.is_enterprise_install
    assert stack.services.workspaces.get(SOLO_ORG) is None  # no store for the org as a whole
    score(one, b"name,email\nSolveig Solberg,solveig@solo.example\nSven Solo,sven@solo.example\n", name="solo.csv")
    with in_workspace(SOLO_ONE):
        run_id = stack.services.store.rows("scoring_runs")[0]["id"]
    start = len(two.standin.timeline)
    for text in ("candidate Solveig", f"results {run_id}"):
        assert two.signer.command("/pluto", text, user=two.user, channel=two.channel).status_code == 200
    two.standin.wait_for(lambda: [r for r in two.standin.responses(two.user) if "No candidate matching “Solveig”"
                                  in r["text"]])
    idle(stack, SOLO_TWO)
    assert "solo.example" not in json.dumps(two.standin.timeline[start:], default=str)
    assert "Solberg" not in json.dumps(two.standin.timeline[start:], default=str)
    with in_workspace(SOLO_TWO):
        assert stack.services.store.rows("scoring_runs") == []
    # the team that scored it finds it
    assert one.signer.command("/pluto", "candidate Solveig", user=one.user, channel=one.channel).status_code == 200
    one.standin.wait_for(lambda: [r for r in one.standin.responses(one.user) if "Solberg" in json.dumps(r)])


def test_a_request_whose_token_rotation_another_replica_won_is_still_served(stack):
    """Another replica rotated Beta's token a moment ago (its refresh token is spent) while this one read the
    installation before that: Bolt's authorize fails to rotate with the stale copy, reads the installation again
    and serves the request with the new token, instead of dropping it."""
    import copy
    import threading
    import time

    from slack_bolt import BoltContext
    from slack_sdk import WebClient
    from slack_sdk.oauth.token_rotation import TokenRotator

    side(stack, BETA)
    store = stack.services.installs.installation_store
    stale = store.find_installation(enterprise_id=None, team_id=BETA)
    web = WebClient(base_url=stack.settings.slack_api_url)
    rotated = TokenRotator(client_id=stack.slack.client_id, client_secret=stack.slack.client_secret,
                           client=web).perform_token_rotation(installation=copy.deepcopy(stale),
                                                              minutes_before_expiration=10**6)
    store.save(rotated)  # the other replica's rotation: the stale copy's refresh token is spent now
    stale.bot_token_expires_at = int(time.time()) + 1  # and this replica thinks its token is due
    me, original = threading.get_ident(), store.find_installation
    reads = []

    def find_installation(**kw):  # this thread reads the stale copy first, as if it read before the rotation
        if threading.get_ident() == me and not reads:
            reads.append(kw)
            return copy.deepcopy(stale)
        return original(**kw)

    store.find_installation = find_installation
    try:
        result = stack.runtime.app._authorize(context=BoltContext({"is_enterprise_install": False, "client": web}),
                                              enterprise_id=None, team_id=BETA, user_id=stale.user_id)
    finally:
        del store.find_installation
    assert reads and result is not None and result.bot_token == rotated.bot_token
