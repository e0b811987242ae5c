"""The shape of the code, checked by reading it: one door into the domain, imports one way.

* Handlers, jobs and flows reach the domain only through the feature services on ``Services``
  (``services.scoring``, ``.voicelinks``, ``.sessions``, ``.events``): they import no API client,
  no store and no retry plumbing, and never touch ``services.store`` / ``.nimrobo`` / ``.pluto``.
* Imports run ``handlers → bot → services → config``: ``services`` imports no Slack, ``bot`` or
  ``handlers``; ``bot`` imports ``handlers`` only in the app factory.
* A listener module (``handlers.<surface>.<module>``) never imports another: what they share lives in
  ``handlers/clicks.py``, ``handlers/router.py``, ``handlers/commands/__init__.py`` (the routers) or ``bot/``.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What only a feature service may use.
BEHIND_THE_DOOR = ("services.store", "services.nimrobo", "services.pluto", "services.http", "services.intake",
                   "services.concurrency", "services.access", "services.keys")
DOOR_ATTRIBUTES = {"store", "nimrobo", "pluto"}
CALLERS = ["handlers", "bot/jobs", "bot/flows", "bot/slack_out.py", "bot/work.py"]


def modules(*places: str) -> list[Path]:
    found: list[Path] = []
    for place in places:
        path = ROOT / place
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def imported(tree: ast.AST) -> set[str]:
    """Every module an import statement names (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def reaches_past_the_door(tree: ast.AST) -> list[str]:
    """``services.store``, ``cmd.services.nimrobo`` ...: a client or the store reached through ``Services``."""
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in DOOR_ATTRIBUTES:
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == "services") or \
                    (isinstance(owner, ast.Attribute) and owner.attr == "services"):
                hits.append(f"line {node.lineno}: {ast.unparse(node)}")
    return hits


def parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("path", modules(*CALLERS), ids=lambda p: str(p.relative_to(ROOT)))
def test_handlers_jobs_and_flows_use_only_the_feature_services(path):
    tree = parse(path)
    banned = sorted(n for n in imported(tree) if n.startswith(BEHIND_THE_DOOR))
    assert not banned, f"{path.name} imports {banned}: go through a feature service on Services"
    assert not reaches_past_the_door(tree), f"{path.name}: {reaches_past_the_door(tree)}"


@pytest.mark.parametrize("path", modules("services"), ids=lambda p: str(p.relative_to(ROOT)))
def test_services_know_nothing_of_slack_or_the_layers_above(path):
    names = imported(parse(path))
    above = sorted(n for n in names if n.split(".")[0] in ("slack_sdk", "slack_bolt", "bot", "handlers"))
    assert not above, f"{path.name} imports {above}"


@pytest.mark.parametrize("path", modules("bot"), ids=lambda p: str(p.relative_to(ROOT)))
def test_bot_imports_handlers_only_to_register_them(path):
    names = imported(parse(path))
    into_handlers = sorted(n for n in names if n.split(".")[0] == "handlers")
    if path == ROOT / "bot" / "app.py":
        assert into_handlers == ["handlers", "handlers.register_all"]
    else:
        assert not into_handlers, f"{path.name} imports {into_handlers}"


LISTENER_MODULES = {f"handlers.{p.parent.name}.{p.stem}" for p in ROOT.glob("handlers/*/*.py") if p.stem != "__init__"}


def sibling_imports(tree: ast.AST, own: str) -> list[str]:
    """The listener modules (other than ``own``) that ``tree`` imports, however the import is spelt."""
    return sorted(n for n in imported(tree) if n in LISTENER_MODULES and n != own)


@pytest.mark.parametrize("path", sorted(ROOT.glob("handlers/*/*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_listener_module_imports_another(path):
    own = f"handlers.{path.parent.name}.{path.stem}"
    assert not sibling_imports(parse(path), own), f"{path.name} imports {sibling_imports(parse(path), own)}"


def test_the_sibling_check_sees_every_spelling():
    assert len(LISTENER_MODULES) > 20 and "handlers.events.mentions" in LISTENER_MODULES
    tree = ast.parse("from handlers.events.pluto_files import score_from_message\nimport handlers.commands.pluto\n"
                     "from handlers.actions import home_actions\nfrom handlers.commands import PLUTO\n"
                     "from handlers.clicks import Click\n")
    assert sibling_imports(tree, "handlers.events.mentions") == [
        "handlers.actions.home_actions", "handlers.commands.pluto", "handlers.events.pluto_files"]


OUTBOX_TABLE = re.compile(r"^outbox$|\b(from|into|update|join)\s+outbox\b", re.IGNORECASE)


def names_the_outbox_table(tree: ast.AST) -> list[str]:
    return [f"line {node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and OUTBOX_TABLE.search(node.value)]


@pytest.mark.parametrize("path", modules("services/voice", "bot/flows/voice.py", "bot/jobs/voice_watcher.py",
                                         "bot/blocks/voice_watcher.py"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_voice_feature_reads_what_was_decided_through_the_outbox_not_its_table(path):
    """docs/architecture.md: the voice walk never reaches past services/outbox.py into its table."""
    assert not names_the_outbox_table(parse(path)), f"{path.name}: {names_the_outbox_table(parse(path))}"


def test_the_checks_see_a_violation():
    """The inspection itself works: each kind of reach past the door is caught."""
    tree = ast.parse("from services.store import Store\nimport services.nimrobo\n"
                     "def f(cmd, services):\n    cmd.services.store.count('x')\n    services.pluto.results()\n")
    assert {"services.store", "services.nimrobo"} <= imported(tree)
    assert [hit.split(": ")[1] for hit in reaches_past_the_door(tree)] == ["cmd.services.store", "services.pluto"]
    sql = ast.parse("store.execute('select key, channel from outbox where key like ?')\nstore.count('outbox')\n"
                    "log.info('the outbox is busy')\n")
    assert len(names_the_outbox_table(sql)) == 2
