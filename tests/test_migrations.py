"""The schema comes only from migrations, and they describe exactly the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models import metadata


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_members_in_the_middle_of_joining_keep_their_flow(tmp_path):
    """0008 copies each open conversation's flow onto its member row; others stay outside any flow."""
    from sqlalchemy import create_engine, text

    from bot.db import upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0007")
    engine = create_engine(url)
    with engine.begin() as conn:
        for i, uid in enumerate(("U-joining", "U-member")):
            conn.execute(text("INSERT INTO member (id, line_user_id, is_reachable, followed_at, created_at) "
                              "VALUES (:i, :u, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')"), {"i": i + 1, "u": uid})
        conn.execute(text("INSERT INTO conversation (member_id, flow, step, data, started_at, updated_at) "
                          "VALUES (1, 'join', 'phone', '{}', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"))
    upgrade(url, "head")
    with engine.connect() as conn:
        flows = dict(conn.execute(text("SELECT line_user_id, flow FROM member")).all())
    engine.dispose()
    assert flows == {"U-joining": "join", "U-member": None}
