#!/usr/bin/env python3
"""The project's set-up commands; each installs what it needs first.

    python3 dev.py run     # start the bot (the sandbox when no Slack credentials are set: a console,
                           # and the same sandbox as a small Slack in the browser at the printed address)
    python3 dev.py run --socket  # the sandbox with the bot in Socket Mode, as most teams deploy it
    python3 dev.py run --workspaces 2  # the sandbox with the bot installed (OAuth) in two workspaces, side by side
    python3 dev.py test    # ruff, mypy, then every test (on SQLite and PostgreSQL; promtool checks the alert rules)
    python3 dev.py doctor  # check the settings and that every configured backend answers

Needs only Python 3.11+ and access to PyPI. Dependencies go into ./.venv and are
re-installed only when pyproject.toml changes. ``test`` also needs a PostgreSQL server
binary for the PostgreSQL variants of the tests: when Debian's ``postgresql`` package is
missing and this runs as root with apt-get (as CI does), it is installed first; otherwise
those tests skip with the reason (in CI, where ``CI=true``, they fail instead). The browser sandbox's
tests need Debian's ``chromium`` the same way (Playwright drives it; no browser is downloaded).
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".pluto-bot-installed"


def ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under any python3
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}).")
    if not PYTHON.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("installing dependencies into .venv ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(digest)


def postgres_installed() -> bool:
    if glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"):
        return True
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        return bool(bindir) and os.path.exists(os.path.join(bindir, "initdb"))
    return False


_apt_updated = False


def apt_install(packages: list[str], what: str, without: str) -> None:
    """Install Debian ``packages`` for ``what`` when we may (root, apt-get); ``without``: what happens if not.
    The package lists are updated once per run, however many installs follow."""
    global _apt_updated
    if os.name == "nt" or not shutil.which("apt-get") or os.geteuid() != 0:
        print(f"{what} is not installed and can't be installed here (needs root and apt-get); {without}", flush=True)
        return
    print(f"installing {what} (apt-get install {' '.join(packages)}) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-q", "-o", "Dpkg::Use-Pty=0"]
    steps = ([] if _apt_updated else [["update"]]) + [["install", "-y", "--no-install-recommends", *packages]]
    for step in steps:
        done = subprocess.run([*apt, *step], env=env, stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            print(f"apt-get {step[0]} failed (exit {done.returncode}); {without}", flush=True)
            return
        _apt_updated = _apt_updated or step == ["update"]


def ensure_postgres() -> None:
    """Install Debian's postgresql package for the PostgreSQL tests when it is missing and we may."""
    if not postgres_installed():
        apt_install(["postgresql"], "PostgreSQL", "the PostgreSQL tests will skip (in CI they fail).")


def run_child(args: list[str]) -> int:
    """Run ``args`` in the foreground and wait for it, as a shell does: Ctrl-C reaches the child (the
    terminal sends it to both of us) and the child decides what it means (the sandbox console stops a
    wait and stays); dev.py neither dies nor kills it, and exits with the child's own status."""
    with subprocess.Popen(args) as child:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue


def chromium_installed() -> bool:
    return any(shutil.which(name) for name in ("chromium", "chromium-browser"))


def ensure_chromium() -> None:
    """Install Debian's chromium (and an emoji font, so screenshots show Slack's emoji) for the browser
    sandbox's tests when it is missing and we may; otherwise those tests skip (in CI they fail)."""
    if not chromium_installed():
        apt_install(["chromium", "fonts-noto-color-emoji"], "Chromium", "the browser tests will skip (in CI they fail).")


def ensure_promtool() -> None:
    """Install Debian's prometheus package (for ``promtool``, which checks deploy/alerts.yml) when it is missing
    and we may; without it tests/test_deploy.py checks the rules as YAML instead."""
    if not shutil.which("promtool"):
        apt_install(["prometheus"], "promtool", "the alert rules are checked as YAML only.")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    if command not in ("run", "test", "doctor"):
        print(__doc__)
        return 2
    ensure_env()
    os.chdir(ROOT)
    if command == "run":
        return run_child([str(PYTHON), "-m", "bot", *argv[1:]])
    if command == "doctor":
        return run_child([str(PYTHON), "-m", "bot", "doctor", *argv[1:]])
    ensure_postgres()
    ensure_chromium()
    ensure_promtool()
    lint = subprocess.call([str(PYTHON), "-m", "ruff", "check", "."])
    # Type checking of the shipped code (bot, handlers, services, config; [tool.mypy] in pyproject.toml).
    types = subprocess.call([str(PYTHON), "-m", "mypy"])
    # Four pytest workers (pytest-xdist): every test starts its own servers on ephemeral ports and
    # keeps its state in its own temp folder, so they run side by side. Most of an end-to-end test's
    # time is spent waiting on the bot and the stand-ins, so four workers keep even 2 cores busy.
    # Tests are spread one by one (``--dist load``), so each must stand on its own: a module-scoped
    # stack is set up on every worker that runs one of its tests.
    workers = [] if any(a.startswith(("-n", "--numprocesses")) for a in argv[1:]) else ["-n", "4"]
    tests = subprocess.call([str(PYTHON), "-m", "pytest", *workers, *argv[1:]])
    return tests or lint or types


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
