#!/usr/bin/env python3
"""The project's set-up commands; each installs what it needs first.

    python3 dev.py run     # start the bot (the sandbox when no Slack credentials are set)
    python3 dev.py test    # ruff, then every test
    python3 dev.py doctor  # check the settings and that every configured backend answers

Needs only Python 3.11+ and access to PyPI. Dependencies go into ./.venv and are
re-installed only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
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


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    if command not in ("run", "test", "doctor"):
        print(__doc__)
        return 2
    ensure_env()
    os.chdir(ROOT)
    if command == "run":
        return subprocess.call([str(PYTHON), "-m", "bot", *argv[1:]])
    if command == "doctor":
        return subprocess.call([str(PYTHON), "-m", "bot", "doctor", *argv[1:]])
    lint = subprocess.call([str(PYTHON), "-m", "ruff", "check", "."])
    tests = subprocess.call([str(PYTHON), "-m", "pytest", *argv[1:]])
    return tests or lint


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
