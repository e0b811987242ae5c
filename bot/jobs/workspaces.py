"""Several workspaces: an uninstalled workspace's data is deleted once ``WORKSPACE_RETENTION_DAYS`` have
passed since it left (services/workspaces.py). Checked every ``RETENTION_CHECK_SECONDS``, on the leader,
once for the deployment (not per workspace)."""

from __future__ import annotations

import time

from slack_sdk import WebClient

from bot.context import Services
from bot.scheduler import job, job_logger

JOB = "workspace_purge"
log = job_logger(JOB)


@job(JOB, seconds=lambda services: services.settings.retention_check_seconds, per_workspace=False)
def purge_departed_workspaces(services: Services, client: WebClient) -> None:
    if not services.workspaces.enabled:
        return
    for workspace in services.workspaces.due_for_purge(services.clock.now()):
        try:
            purged = services.workspaces.purge(workspace.key)
        except Exception:  # one workspace's trouble never keeps the others' data past its time
            log.exception("could not delete the records of workspace %s; trying again next time", workspace.key)
            continue
        if purged:
            log.warning("deleted every record of workspace %s (%s), uninstalled on %s", workspace.key,
                        workspace.name, time.strftime("%Y-%m-%d", time.gmtime(workspace.uninstalled_at or 0)))
        else:
            log.info("workspace %s was installed again: its records stay", workspace.key)
