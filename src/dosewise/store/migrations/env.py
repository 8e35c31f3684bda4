"""Alembic environment: the engine comes from ``dosewise.store.database`` (no alembic.ini).

SQLite changes a table by copying it ("batch" mode: create the new table, copy the rows, drop
the old one). With foreign keys on, dropping the old table runs its ON DELETE CASCADE and
empties the child tables (dropping `plans` would delete every dose slot and dose event). So on
SQLite the foreign keys are turned off for the migration, outside its transaction (SQLite
ignores the pragma inside one), checked with `PRAGMA foreign_key_check` before the commit, and
turned on again.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from dosewise.store.models import Base

engine = context.config.attributes["engine"]


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration would leave rows without their parent: {broken[:5]}")


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.dbapi_connection
    if sqlite and raw is not None:
        raw.execute("PRAGMA foreign_keys=OFF")  # no transaction is open yet on this connection
    try:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
        connection.commit()
    finally:
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")
