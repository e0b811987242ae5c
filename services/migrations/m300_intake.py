"""CSV intakes: the original file (in ``files``) and what the check found, kept as evidence."""

import sqlite_utils


def up(db: sqlite_utils.Database) -> None:
    db["intakes"].create(
        {"id": str, "file_id": str, "filename": str, "user": str, "channel": str, "created_at": float,
         "ok": bool, "error": str, "report_json": str, "normalized_path": str},
        pk="id",
    )
