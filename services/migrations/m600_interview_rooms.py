"""Live interview rooms started from Slack (number range 600-699: live interviews).

A room's URL, its tokens, join links and realtime client secrets are bearer secrets:
they are handed to one person in memory and never stored. This table keeps what the
Interview card, the brief, the assistant and the debrief need.
"""

from services.store import Schema


def up(db: Schema) -> None:
    db["interview_rooms"].create(
        {
            "id": str,  # ours; what buttons carry
            "room_name": str,  # Pluto's name for the room (not a secret: it does not let anyone in)
            "kind": str,  # candidate (from a scoring run) | adhoc (/pluto room)
            "run_id": str,  # scoring_runs row, when the candidate came from one
            "candidate_id": str,
            "candidate_name": str,
            "interviewer": str,  # Slack user id of who started it
            "interviewer_name": str,
            "interviewers_json": str,  # Slack user ids of everyone let in as interviewer
            "channel": str,
            "thread_ts": str,
            "card_ts": str,  # the Interview card message; its thread is where the assistant answers
            "expires_at": float,
            "expiry_estimated": bool,  # Pluto did not say; a default lifetime was assumed
            "state": str,  # live | analyzed (expired is derived from expires_at)
            "brief_json": str,  # the pre-brief, once fetched (the assistant's context)
            "brief_source": str,  # cached | generated
            "interview_id": str,  # sent with the analytics save
            "analytics_json": str,  # the analytics as Pluto returned them
            "score": float,
            "recommendation": str,
            "save_state": str,  # saved | unknown | failed | none (no candidate to save to)
            "analyzed_at": float,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["interview_rooms"].create_index(["room_name"])
    db["interview_rooms"].create_index(["channel", "card_ts"])
    db["interview_rooms"].create_index(["candidate_id", "created_at"])
