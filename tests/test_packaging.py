"""What ships is the bot: the wheel holds bot, handlers, services and config, and needs the bot's runtime
dependencies only. The stand-ins (sandbox/) stay in the checkout; an installed bot without credentials
says what to do instead of failing on a missing module."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("bot", "handlers", "services")


def checkout_copy(dest: Path) -> Path:
    """The files a build reads (with sandbox/, to show it is left out), away from the worktree."""
    dest.mkdir()
    for name in ("pyproject.toml", "config.py", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    for package in (*SHIPPED, "sandbox"):
        shutil.copytree(ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = checkout_copy(tmp / "src")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "--disable-pip-version-check", "-w", str(tmp / "dist"), str(source)],
                   check=True, capture_output=True, timeout=300)
    (built,) = (tmp / "dist").glob("pluto_bot-*.whl")
    return built


def test_the_wheel_holds_the_bot_and_not_the_stand_ins(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"bot", "handlers", "services", "config.py"}
    assert not [n for n in names if n.startswith("sandbox")]
    # every module of the bot, subpackages included (jobs, blocks, flows, listeners, migrations)
    modules = {str(p.relative_to(ROOT)) for package in SHIPPED for p in (ROOT / package).rglob("*.py")}
    assert modules <= set(names), sorted(modules - set(names))[:5]


def test_the_wheel_needs_runtime_dependencies_only(wheel):
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(zf.read(meta_name).decode())
    requires = metadata.get_all("Requires-Dist")
    runtime = {re.split(r"[<>=!~;\[ ]", r)[0].lower() for r in requires if "extra ==" not in r}
    assert {"slack-bolt", "httpx", "apscheduler", "sqlite-utils"} <= runtime
    assert not runtime & {"websockets", "emoji", "pytest", "ruff", "mypy"}
    dev = " ".join(r for r in requires if 'extra == "dev"' in r)
    assert "websockets" in dev and "emoji" in dev


def test_an_installed_bot_without_credentials_says_what_to_do(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--disable-pip-version-check",
                    "--target", str(site), str(wheel)], check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "NIMROBO_", "API_", "DATABASE_", "OPENAI_", "PYTHONPATH"))}
    env.update(PYTHONPATH=str(site), DATABASE_PATH=str(tmp_path / "bot.db"), SANDBOX_DATA_DIR=str(tmp_path / "sb"))
    proc = subprocess.run([sys.executable, "-m", "bot"], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "sandbox" in proc.stderr and "is not installed" in proc.stderr
    assert "SLACK_APP_TOKEN" in proc.stderr and "python3 dev.py run" in proc.stderr
    assert "Traceback" not in proc.stderr
    # the bot itself came from the wheel, not from this checkout
    where = subprocess.run([sys.executable, "-c", "import bot; print(bot.__file__)"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=60).stdout
    assert where.startswith(str(site))
