"""CSV intakes: the original file (in ``files``) and what the check found, kept as evidence."""

from services.store import Schema


def up(db: Schema) -> None:
    db["intakes"].create(
        {"id": str, "file_id": str, "filename": str, "user": str, "channel": str, "created_at": float,
         "ok": bool, "error": str, "report_json": str, "normalized_path": str},
        pk="id",
    )
