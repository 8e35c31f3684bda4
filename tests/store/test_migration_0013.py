"""Migration 0013 (issue 15): clinician accounts that existed before the upgrade are not
verified by it (anyone could sign up as a clinician); an administrator role exists after it, and
going back removes the administrators' accounts."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from dosewise.store.database import build_engine, downgrade_database, unit_of_work, upgrade_database
from dosewise.store.models import WebSessionRow

SIGNED_UP = datetime(2026, 11, 1, 9, 0)


def test_existing_clinicians_are_not_verified_by_the_upgrade(database_url: str) -> None:
    engine = build_engine(database_url)
    upgrade_database(engine, "0012")
    with engine.begin() as connection:  # the users table as 0012 has it
        for email, role in (("doc@example.org", "clinician"), ("pat@example.org", "patient")):
            connection.execute(
                text(
                    "INSERT INTO users (email, display_name, password_hash, role, created_at) "
                    "VALUES (:email, 'Someone', NULL, :role, :at)"
                ),
                {"email": email, "role": role, "at": SIGNED_UP},
            )
        with pytest.raises(IntegrityError), connection.begin_nested():  # no administrators before 0013
            connection.execute(
                text(
                    "INSERT INTO users (email, display_name, role, created_at) "
                    "VALUES ('root@example.org', 'Root', 'admin', :at)"
                ),
                {"at": SIGNED_UP},
            )
    upgrade_database(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT email, role, verified_at, verified_by FROM users ORDER BY email")
        )
        assert [tuple(row) for row in rows] == [
            ("doc@example.org", "clinician", None, None),
            ("pat@example.org", "patient", None, None),
        ]
    with pytest.raises(IntegrityError), engine.begin() as connection:  # the roles are still checked
        connection.execute(
            text(
                "INSERT INTO users (email, display_name, role, created_at) "
                "VALUES ('w@x.org', 'W', 'wizard', :at)"
            ),
            {"at": SIGNED_UP},
        )
    with engine.begin() as connection:  # an administrator, signed in
        admin_id = connection.execute(
            text(
                "INSERT INTO users (email, display_name, role, created_at) "
                "VALUES ('root@example.org', 'Root', 'admin', :at) RETURNING id"
            ),
            {"at": SIGNED_UP},
        ).scalar_one()
        connection.execute(
            insert(WebSessionRow).values(
                token_hash="x" * 64, user_id=admin_id, csrf_token="c", created_at=SIGNED_UP,
                last_seen_at=SIGNED_UP, expires_at=SIGNED_UP,
            )
        )  # fmt: skip
        connection.execute(
            text("UPDATE users SET verified_at = :at, verified_by = 'cli' WHERE email = 'doc@example.org'"),
            {"at": SIGNED_UP},
        )
    downgrade_database(engine, "0012")  # the administrator goes, with their session; the rest stays
    with engine.connect() as connection:
        emails = connection.execute(text("SELECT email FROM users ORDER BY email")).scalars().all()
        sessions = connection.execute(text("SELECT count(*) FROM web_sessions")).scalar_one()
    assert (emails, sessions) == (["doc@example.org", "pat@example.org"], 0)
    upgrade_database(engine)
    with unit_of_work(engine) as session:  # verification does not survive a round trip down
        assert session.execute(text("SELECT verified_at FROM users")).scalars().all() == [None, None]
    engine.dispose()
