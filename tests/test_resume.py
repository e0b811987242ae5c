"""Resuming a voice batch a shutdown interrupted (services/voicelinks.py, bot/jobs/resume.py): nothing made
twice, nothing left undelivered, whatever moment the shutdown hit."""

from services.voicelinks import BATCHES
from tests.test_voice_projects import form, voicelinks  # noqa: F401 - the fixture


def interrupt_during_create(voicelinks, labels):  # noqa: F811
    """Create a batch, and mark it interrupted (as a shutdown does) while its links are being created."""
    original = voicelinks.nimrobo.create_links

    def create_links(*args, **kwargs):
        made = original(*args, **kwargs)
        assert voicelinks.interrupt_running()  # the grace ends here: Nimrobo made them, the answer is in
        return made

    voicelinks.nimrobo.create_links = create_links
    try:
        return voicelinks.create(form(name="QA Lead", labels=labels), channel="C1", creator="U1")
    finally:
        voicelinks.nimrobo.create_links = original


def test_a_batch_interrupted_as_it_finishes_stays_interrupted_and_is_resumed_with_every_link(voicelinks, sim):  # noqa: F811
    result = interrupt_during_create(voicelinks, ["Ada", "Alan"])
    assert result.batch.state == "interrupted"  # not "created": this process stops before it delivers
    [batch] = voicelinks.resumable()
    resumed = voicelinks.resume(batch)
    assert resumed is not None and resumed.batch.state == "created"
    assert sorted(link.label for link in resumed.links) == ["Ada", "Alan"] and all(link.url for link in resumed.links)
    assert len(sim.all_links()) == 2  # nothing created twice
    assert voicelinks.resume(batch) is None and not voicelinks.resumable()  # resumed once


def test_links_made_but_never_recorded_are_adopted_not_made_again(voicelinks, sim):  # noqa: F811
    batch = voicelinks.create(form(name="SRE", labels=["Ada"]), channel="C1", creator="U1").batch
    # As if the replica died after Nimrobo made "Grace" and before the bot recorded it:
    voicelinks.nimrobo.create_links(batch.project_id, ["Grace"], "1_week")
    voicelinks.store.update(BATCHES, batch.id, {"state": "interrupted", "labels_json": ["Ada", "Grace", "Linus"]})
    resumed = voicelinks.resume(voicelinks.batch(batch.id))
    assert sorted(link["label"] for link in sim.all_links()) == ["Ada", "Grace", "Linus"]
    assert sorted(link.label for link in resumed.links) == ["Ada", "Grace", "Linus"]
    assert resumed.batch.state == "created"
