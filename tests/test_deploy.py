"""The deployment files under deploy/ (README "Running it as a service"), each checked.

* the systemd unit: ``systemd-analyze verify`` where it exists (with this checkout's Python in ExecStart);
* the alert rules: ``promtool check rules`` (Debian's ``prometheus``, installed by dev.py) where it exists,
  and always as YAML: every rule's expression names metrics the bot exports; ``promtool test rules``
  shows the leader-missing and outbox alerts fire;
* the Prometheus scrape config: ``promtool check config``, and it scrapes ``/metrics``;
* the Grafana dashboard: the JSON loads and every query names only exported metrics;
* the reverse proxy sends Slack requests only to ready replicas; the env example loads as settings.
"""

import configparser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config import load_settings
from services.metrics import families

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
METRIC = re.compile(r"\b(pluto_bot_[a-z0-9_]+)\b")


def named_metrics(expr):
    return set(METRIC.findall(expr))


def unit():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "pluto-bot@.service")
    return parser


def test_the_systemd_unit_runs_the_bot_and_outlasts_the_shutdown_grace(tmp_path):
    service = unit()["Service"]
    assert service["ExecStart"].endswith("-m bot") and service["KillSignal"] == "SIGTERM"
    assert service["Environment"] == "PORT=%i"
    grace = load_settings({}, env_file=DEPLOY / "pluto-bot.env.example").shutdown_grace_seconds
    assert float(service["TimeoutStopSec"]) > grace + 5  # systemd waits longer than the bot drains
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here; the unit was checked as INI only")
    text = (DEPLOY / "pluto-bot@.service").read_text()
    text = text.replace("/opt/pluto-bot/.venv/bin/python", sys.executable).replace("/opt/pluto-bot", str(ROOT))
    (tmp_path / "pluto-bot@.service").write_text(text)
    done = subprocess.run([analyze, "verify", str(tmp_path / "pluto-bot@3001.service")], capture_output=True,
                          text=True, timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if "pluto-bot@" in line]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr


def rules():
    return [rule for group in yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"] for rule in group["rules"]]


def test_every_alert_rule_names_only_exported_metrics():
    exported = families()
    alerts = {rule["alert"]: rule for rule in rules()}
    assert {"PlutoBotOutboxStuck", "PlutoBotJobFailing", "PlutoBotSlowAcks", "PlutoBotLeaderMissing"} <= set(alerts)
    for name, rule in alerts.items():
        used = named_metrics(rule["expr"])
        assert used, f"{name} names no metric of the bot"
        assert used <= exported, f"{name} names {used - exported}, which the bot does not export"
        assert rule["labels"]["severity"] and rule["annotations"]["summary"]


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus) is not installed; "
                                                              "`python3 dev.py test` installs it as root")


@needs_promtool
def test_promtool_accepts_the_rules_and_the_scrape_config():
    for args in (["check", "rules", "alerts.yml"], ["check", "config", "prometheus.yml"]):
        done = subprocess.run([PROMTOOL, *args], cwd=DEPLOY, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_the_leader_missing_and_outbox_alerts_fire(tmp_path):
    shutil.copy(DEPLOY / "alerts.yml", tmp_path / "alerts.yml")
    alerts = {rule["alert"]: rule for rule in rules()}
    leader_notes = alerts["PlutoBotLeaderMissing"]["annotations"]
    outbox_notes = {k: v.replace("{{ $value | humanizeDuration }}", "24m 0s")  # 12 min x 120 s
                    for k, v in alerts["PlutoBotOutboxStuck"]["annotations"].items()}
    tests = {
        "rule_files": ["alerts.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": 'pluto_bot_leader{job="pluto-bot",instance="a:3001"}', "values": "1 0 0 0 0 0"},
                {"series": 'pluto_bot_leader{job="pluto-bot",instance="b:3002"}', "values": "0 0 0 0 0 0"},
                {"series": 'pluto_bot_outbox_oldest_age_seconds{job="pluto-bot",instance="a:3001"}',
                 "values": "0+120x12"},
            ],
            "alert_rule_test": [
                {"eval_time": "5m", "alertname": "PlutoBotLeaderMissing",
                 "exp_alerts": [{"exp_labels": {"severity": "page"}, "exp_annotations": leader_notes}]},
                {"eval_time": "1m", "alertname": "PlutoBotLeaderMissing", "exp_alerts": []},
                {"eval_time": "12m", "alertname": "PlutoBotOutboxStuck",
                 "exp_alerts": [{"exp_labels": {"severity": "page"}, "exp_annotations": outbox_notes}]},
            ],
        }],
    }
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests))
    done = subprocess.run([PROMTOOL, "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_scrape_config_scrapes_metrics_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics" and len(job["static_configs"][0]["targets"]) == 2
    assert config["rule_files"] == ["alerts.yml"]


def test_the_dashboard_loads_and_names_only_exported_metrics():
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert dashboard["title"] and len(exprs) >= 10
    used = set().union(*(named_metrics(e) for e in exprs))
    assert used and used <= families(), used - families()
    for must in ("pluto_bot_ack_seconds_bucket", "pluto_bot_outbox_oldest_age_seconds", "pluto_bot_leader",
                 "pluto_bot_api_request_seconds_bucket", "pluto_bot_scoring_queue_length"):
        assert must in used


def test_the_proxy_sends_requests_only_to_ready_replicas():
    text = (DEPLOY / "haproxy.cfg").read_text()
    assert "option httpchk GET /ready" in text
    assert len(re.findall(r"^\s*server \S+ \S+:\d+ check", text, re.M)) == 2
    assert "deny if { path_beg /metrics }" in text  # metrics stay on the private network


def test_the_env_example_loads_as_settings():
    settings = load_settings({}, env_file=DEPLOY / "pluto-bot.env.example")
    assert settings.log_format == "json" and settings.database_url and settings.mode == "http"
