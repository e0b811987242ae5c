"""Screening boards: voice links tied to Pluto candidates of a scoring run, decisions, DM choices.

* ``screening_boards``: one per scoring run, the board message in the run's thread.
* ``screening_links``: each voice link made from a board, tied to its Pluto candidate id and
  run, with the interview's outcome (evaluation, summary, recommendation) and whether the
  evaluation was saved to the candidate in Pluto.
* ``screening_decisions``: Advance / Reject, who and when; an undo marks the row, never deletes it.
* ``screening_dm``: who asked for completions by DM, per board.
"""

from services.store import Schema


def up(db: Schema) -> None:
    db["screening_boards"].create(
        {
            "id": str,
            "run_id": str,  # scoring_runs row; one board per run
            "channel": str,  # the run's channel and thread: where the board message lives
            "thread_ts": str,
            "message_ts": str,  # the board message, updated in place
            "created_by": str,
            "project_name": str,  # the voice project (Interview pattern: one per role)
            "project_id": str,
            "request_json": str,  # prompt, evaluator, expiry, time limit: for single additions
            "batch_ids_json": str,  # the voice-link batches made from this board
            "sort": str,  # pluto | evaluation | combined
            "page": int,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["screening_boards"].create_index(["run_id"], unique=True)
    db["screening_links"].create(
        {
            "link_id": str,  # Nimrobo link id (voice_links.id); never the URL or token
            "board_id": str,
            "run_id": str,
            "candidate_id": str,  # Pluto candidate id
            "candidate_name": str,
            "label": str,
            "batch_id": str,
            "creator": str,
            "outcome": str,  # "" | completed | failed
            "session_id": str,
            "evaluation_json": str,  # {question label: answer}
            "evaluation_state": str,  # "" | pending | ready | error | none | missing
            "summary": str,
            "recommendation": str,
            "completed_at": str,
            "finished_seen_at": float,  # when the bot first saw the outcome (bounds the wait for an evaluation)
            "analytics_state": str,  # "" | saving | saved | failed | unknown
            "analytics_error": str,
            "analytics_reported": int,  # 1 once a failure was told in the thread
            "created_at": float,
            "updated_at": float,
        },
        pk="link_id",
    )
    db["screening_links"].create_index(["board_id"])
    db["screening_links"].create_index(["session_id"])
    db["screening_decisions"].create(
        {
            "id": str,
            "board_id": str,
            "candidate_id": str,
            "decision": str,  # advance | reject
            "decided_by": str,
            "decided_at": float,
            "undone_by": str,
            "undone_at": float,
        },
        pk="id",
    )
    db["screening_decisions"].create_index(["board_id", "candidate_id"])
    db["screening_dm"].create(
        {"id": str, "board_id": str, "user_id": str, "enabled": int, "updated_at": float},  # id = board|user
        pk="id",
    )
