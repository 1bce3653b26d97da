"""The audit log: one row for every change a staff member makes, kept for the record.

Call `record` after the change succeeds, with a short dotted action (`post.create`,
`follower.approve`, `staff.disable`...), the thing acted on, and any detail worth keeping.
Never put secrets (passwords, tokens) or more personal data than needed in `detail`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from hub.store.db import Database


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    staff_id: int | None
    username: str | None  # None for actions taken with the CLI
    action: str
    target: str
    detail: dict[str, Any]


async def record(db: Database, staff_id: int | None, action: str, target: str = "",
                 detail: dict[str, Any] | None = None) -> int:
    """Append one entry; `staff_id` is None for the CLI. Returns the entry's id."""
    return await db.execute(
        "INSERT INTO audit_log (at, staff_id, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (time.time(), staff_id, action, target, orjson.dumps(detail or {}).decode()))


async def recent(db: Database, *, limit: int = 20, staff_id: int | None = None,
                 action: str | None = None) -> list[AuditEntry]:
    """The newest entries first, optionally only one staff member's or one action's."""
    where, params = [], []
    if staff_id is not None:
        where.append("a.staff_id = ?")
        params.append(staff_id)
    if action is not None:
        where.append("a.action = ?")
        params.append(action)
    sql = ("SELECT a.*, s.username FROM audit_log a LEFT JOIN staff s ON s.id = a.staff_id"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.id DESC LIMIT ?")
    rows = await db.fetchall(sql, [*params, limit])
    return [AuditEntry(r["id"], r["at"], r["staff_id"], r["username"], r["action"], r["target"],
                       orjson.loads(r["detail"])) for r in rows]
