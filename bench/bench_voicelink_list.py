"""``/voicelink list`` with no project named and no channel default, against 500 projects: Nimrobo requests
before (every project's links, one listing each, again on every instant-link Edit press) and after (the
person's own links and the channel's projects first; every project only on request, cached, bounded).

    .venv/bin/python bench/bench_voicelink_list.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import Settings  # noqa: E402
from sandbox.nimrobo_sim import ALL_SCOPES, NimroboSimulator  # noqa: E402
from services.nimrobo import NimroboClient  # noqa: E402
from services.store import Store  # noqa: E402
from services.voice_forms import VoiceForm  # noqa: E402
from services.voicelinks import EVERY_PROJECT, VoiceLinkService  # noqa: E402

PROMPT = "## Goal\ng\n\n## Role\nr\n\n## Guidelines\ng\n\n## Constraints\nc"
PROJECTS = 500
USER, CHANNEL = "U_ALICE", "C_HIRING"


def old_listing(client: NimroboClient) -> int:
    """What the bot did before: list the projects, then every project's links, then the instant links."""
    projects = client.list_projects()
    for project in projects:
        client.list_links(project.id)
    client.list_instant_links()
    return len(projects)


def measure(sim: NimroboSimulator, fn) -> tuple[int, float]:
    sim.reset_calls()
    started = time.perf_counter()
    fn()
    return sum(sim.calls.values()), time.perf_counter() - started


def main() -> None:
    with NimroboSimulator(keys={"api_bench": ALL_SCOPES}) as sim, \
            NimroboClient(sim.url + "/api", "api_bench") as client, tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        service = VoiceLinkService(store, client, Settings(), workers=12)
        for i in range(PROJECTS - 3):  # projects the bot never touched (someone else's, made elsewhere)
            project = client.create_project(f"Elsewhere {i:03d}", PROMPT)
            client.create_links(project.id, [f"Someone {i}"], "1_week")
        for role in ("Data Engineer", "QA Lead"):  # two roles Alice screened from this channel
            service.create(VoiceForm(pattern="interview", name=role, labels=["Ada", "Alan"], prompt=PROMPT,
                                     expiry_preset="1_week"), channel=CHANNEL, creator=USER)
        service.create(VoiceForm(pattern="project", name="Team project", labels=["Grace"], prompt=PROMPT,
                                 expiry_preset="1_week", project_id=client.create_project("Team project",
                                                                                          PROMPT).id),
                       channel="C_OTHER", creator=USER)
        service.create(VoiceForm(pattern="instant", name="", labels=["Walk-in"], prompt=PROMPT,
                                 expiry_preset="1_week"), channel=CHANNEL, creator=USER)
        instant = next(row for row in store.rows("voice_links") if row["kind"] == "instant")["id"]

        before_list, t_before = measure(sim, lambda: old_listing(client))
        before_edit, _ = measure(sim, lambda: old_listing(client))  # Edit found the link among every project's
        after_list, t_after = measure(sim, lambda: service.list_for("", user=USER, channel=CHANNEL, fresh=True))
        after_edit, _ = measure(sim, lambda: service.editable_instant_link(instant))
        after_page, _ = measure(sim, lambda: service.list_for("", user=USER, channel=CHANNEL))
        every_first, t_every = measure(sim, lambda: service.list_for(EVERY_PROJECT, user=USER, channel=CHANNEL))
        every_again, _ = measure(sim, lambda: service.list_for(EVERY_PROJECT, user=USER, channel=CHANNEL))
        store.close()

    print(f"/voicelink list with no project and no channel default, {PROJECTS} projects (Nimrobo requests)")
    print(f"  {'':44}{'before':>10}{'after':>10}")
    print(f"  {'/voicelink list':44}{before_list:>10}{after_list:>10}")
    print(f"  {'instant link Edit press':44}{before_edit:>10}{after_edit:>10}")
    print(f"  {'next page of the list':44}{before_list:>10}{after_page:>10}")
    print(f"  {'every project (asked for; 12 at a time)':44}{before_list:>10}{every_first:>10}")
    print(f"  {'every project again within a minute':44}{before_list:>10}{every_again:>10}")
    print(f"  elapsed: before {t_before:.2f} s (one at a time), after {t_after:.3f} s; every project {t_every:.2f} s")


if __name__ == "__main__":
    main()
