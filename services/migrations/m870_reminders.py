"""Reminders, decision nudges, expiry warnings, daily digests and personal notification settings
(number range 870-889: reminders).

* ``notification_prefs``: what each person chose in App Home (no row: the defaults).
* ``reminder_state``: one row per reminder (``feedback|room|user``, ``decision|board|user``,
  ``expiry|link``): how many were sent, when, snoozed until when. What is due is computed from
  the rooms, boards and links themselves; this row only says what was already done about it,
  so a restart or a new leader neither repeats nor loses one.
* ``channel_digests``: a channel's daily digest time, in the time zone of who set it.
* ``interview_rooms`` gains the decision taken from a feedback reminder.
"""

from services.store import Schema


def up(db: Schema) -> None:
    db["notification_prefs"].create(
        {
            "user_id": str,
            "completions": str,  # mine | following | off
            "reminders": int,  # 1 on, 0 off
            "quiet_hours": str,  # "" (the workspace's QUIET_HOURS) | "H-H" | off
            "digest_dm": int,  # 1: the channel digest also by DM
            "updated_at": float,
        },
        pk="user_id",
    )
    db["reminder_state"].create(
        {
            "key": str,
            "kind": str,  # feedback | decision | expiry
            "user_id": str,
            "subject": str,  # room id | board id | link id
            "sent_count": int,
            "last_sent_at": float,
            "snoozed_until": float,
            "created_at": float,
        },
        pk="key",
    )
    db["reminder_state"].create_index(["user_id"])
    db["channel_digests"].create(
        {
            "channel": str,
            "at_time": str,  # "09:00"
            "tz": str,  # IANA name of the setter's time zone
            "set_by": str,
            "enabled": int,
            "updated_at": float,
        },
        pk="channel",
    )
    rooms = db["interview_rooms"]
    for name, kind in (("decision", str), ("decided_by", str), ("decided_at", float)):
        rooms.add_column(name, kind)
