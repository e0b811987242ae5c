"""Which state each Interview card last showed, so a room that closes by itself gets its card
updated once (``live`` | ``expired`` | ``analyzed``)."""

from services.store import Schema


def up(db: Schema) -> None:
    db["interview_rooms"].add_column("card_state", str)
