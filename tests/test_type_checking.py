"""Types are checked: `python3 dev.py test` runs mypy and fails when it fails; every `# type: ignore`
names its error code and says why."""

import re
import subprocess
from pathlib import Path

import pytest

import dev

ROOT = Path(__file__).resolve().parent.parent
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[a-z-, ]+\])?(?P<rest>.*)$")


def test_every_type_ignore_names_its_code_and_a_reason():
    bare, unexplained = [], []
    for path in ROOT.glob("**/*.py"):
        if ".venv" in path.parts or "build" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if path.name == Path(__file__).name:
                continue
            match = IGNORE.search(line)
            if not match:
                continue
            where = f"{path.relative_to(ROOT)}:{number}"
            if not match["code"]:
                bare.append(where)
            elif not match["rest"].strip(" #-"):
                unexplained.append(where)
    assert bare == [] and unexplained == []


def test_the_test_command_runs_mypy_and_fails_with_it(monkeypatch):
    calls = []

    def call(command, **kwargs):
        calls.append(command)
        return 1 if command[1:3] == ["-m", "mypy"] else 0

    monkeypatch.setattr(dev, "ensure_env", lambda: None)
    # no Debian package is ever installed from a unit test: every installer is patched out, and apt_install
    # itself fails the test should a new one be added without being patched here
    for installer in ("ensure_postgres", "ensure_chromium", "ensure_promtool"):
        monkeypatch.setattr(dev, installer, lambda: None)
    monkeypatch.setattr(dev, "apt_install", lambda *args: pytest.fail(f"apt_install{args} from a unit test"))
    monkeypatch.setattr(subprocess, "call", call)
    monkeypatch.chdir(ROOT)
    assert dev.main(["test", "tests/test_config.py"]) != 0
    assert any(c[1:3] == ["-m", "mypy"] for c in calls)
    assert any(c[1:3] == ["-m", "pytest"] for c in calls)
