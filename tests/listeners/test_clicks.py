"""The shared listener steps (handlers/clicks.py): ack first, a private reply, slow work on the pool, a stale
value refused politely, and the arguments Bolt passes read from the adapter's own signature."""

from unittest.mock import call

from slack_bolt.util.utils import get_arg_names_of_callable

from bot.blocks import info_message
from handlers import inject
from handlers.clicks import Click, at_once, deferred, listener, modal


def click(value="b1|c1", ephemeral=False):
    body = {"type": "block_actions", "trigger_id": "trig-1", "user": {"id": "U_ALICE"},
            "channel": {"id": "C_HIRING"}, "container": {"is_ephemeral": ephemeral},
            "message": {"ts": "1.5", "thread_ts": "1.0"}}
    return body, {"action_id": "x", "value": value}


@deferred("say hello")
def hello(click: Click):
    first, second = click.pair()
    return info_message(f"hello {first} {second} from {click.channel}")


@deferred("say hello", respond=True)
def hello_respond(click: Click):
    return info_message("hello by response_url")


@listener
def quick(click: Click):
    click.pair()
    click.defer("later", lambda c: info_message("later"))


def test_bolt_passes_what_the_listener_needs_and_never_services(services):
    assert get_arg_names_of_callable(inject(hello, services)) == ["ack", "body", "action", "client"]
    assert get_arg_names_of_callable(inject(hello_respond, services)) == ["ack", "body", "action", "client",
                                                                           "respond"]


def test_ack_first_then_the_work_on_the_pool_answers_privately(slack, services):
    body, action = click()
    hello(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()
    assert services.work.done == ["say hello"]
    sent = slack.client.chat_postEphemeral.call_args.kwargs
    assert sent["user"] == "U_ALICE" and sent["channel"] == "C_HIRING" and "hello b1 c1" in sent["text"]
    slack.client.chat_postMessage.assert_not_called()


def test_a_respond_listener_answers_through_the_response_url(slack, services):
    body, action = click()
    hello_respond(ack=slack.ack, body=body, action=action, client=slack.client, respond=slack.respond,
                  services=services)
    assert slack.respond.call_args.kwargs["response_type"] == "ephemeral"
    slack.client.chat_postEphemeral.assert_not_called()


def test_an_old_or_forged_value_is_refused_privately_on_the_ack_path(slack, services):
    body, action = click("no-separator")
    quick(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()
    assert "older message" in slack.client.chat_postEphemeral.call_args.kwargs["text"]
    assert services.work.done == []  # nothing deferred


def test_a_modal_listener_opens_a_loading_modal_then_fills_it(slack, services):
    from slack_sdk.models.views import View

    @modal("Title", "Loading…", "a modal")
    def form(click: Click):
        return View(type="modal", title="Done", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}])

    body, action = click()
    form(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert [c[0] for c in slack.mock_calls[:3]] == ["ack", "client.views_open", "client.views_update"]
    assert "Loading" in str(slack.client.views_open.call_args.kwargs["view"])
    assert "Done" in str(slack.client.views_update.call_args.kwargs["view"])



def test_an_at_once_step_runs_on_the_ack_path_and_any_failure_is_answered_privately(slack, services):
    @at_once("open the form")
    def broken(click: Click):
        click.client.views_open(trigger_id=click.body["trigger_id"], view={})
        raise RuntimeError("Slack said no")

    body, action = click()
    broken(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert [c[0] for c in slack.mock_calls[:3]] == ["ack", "client.views_open", "client.chat_postEphemeral"]
    assert "`open the form`" in slack.client.chat_postEphemeral.call_args.kwargs["text"]


def test_to_dm_answers_by_dm_even_from_a_channel(slack, services):
    @deferred("say hello", to="dm")
    def hello_dm(click: Click):
        return info_message("hello")

    body, action = click()
    hello_dm(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    slack.client.conversations_open.assert_called_once_with(users="U_ALICE")
    assert slack.client.chat_postMessage.call_args.kwargs["channel"] == "D_ALICE"
    slack.client.chat_postEphemeral.assert_not_called()
