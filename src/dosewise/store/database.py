"""Engines and migrations.

SQLite (the default) runs with WAL, foreign keys on, ``synchronous=FULL`` (an acknowledged
diary entry survives a crash) and a busy timeout; PostgreSQL needs nothing special.
The schema is created only by the Alembic migrations in ``store/migrations``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
SQLITE_BUSY_TIMEOUT_MS = 10_000
SCHEMA_HEAD = "0015"  # the newest migration (a test checks it against store/migrations)


# A web worker serves up to 40 requests at once (the thread pool): keep that many PostgreSQL
# connections open instead of opening and closing one per request beyond SQLAlchemy's default 5.
POSTGRES_POOL = {"pool_size": 20, "max_overflow": 20, "pool_pre_ping": True}


def build_engine(url: str, *, crash_durable_only: bool = False) -> Engine:
    """``crash_durable_only``: commits survive the process being killed, not a power cut
    (SQLite ``synchronous=NORMAL`` in WAL mode, PostgreSQL ``synchronous_commit=off``): for the
    notification dispatcher's marks, where a mark lost to a power cut means a message sent
    again, never one lost; never for the diary."""
    options: dict[str, Any] = dict(POSTGRES_POOL) if url.startswith("postgresql") else {}
    if crash_durable_only and url.startswith("postgresql"):
        options["connect_args"] = {"options": "-c synchronous_commit=off"}
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if crash_durable_only:
            event.listen(engine, "connect", _sqlite_normal_sync)
        # Take the write lock when a transaction begins: a deferred transaction that reads and
        # then writes can fail at once with "database is locked" when another process wrote
        # in between; BEGIN IMMEDIATE waits (busy timeout) instead.
        # Reads (read_only below) begin deferred: in WAL mode they neither wait for nor block
        # a writer, so pages that only read never queue behind a write.
        event.listen(engine, "begin", _sqlite_begin)
    return engine


READ_ONLY = "dosewise_read_only"


def _sqlite_begin(connection: Any) -> None:
    deferred = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # the driver leaves BEGIN to us (see build_engine)
    cursor = connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=FULL",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    ):
        cursor.execute(pragma)
    cursor.close()


def _sqlite_normal_sync(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["engine"] = engine
    return config


MIGRATION_LOCK = 0x0D05E415E  # PostgreSQL advisory lock: one worker migrates, the others wait


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the newest schema; a quick check (no Alembic import) when it is.

    Several web workers may start at once on one PostgreSQL database: the first takes an
    advisory lock and migrates; the others wait for it, see the new schema and go on.
    """
    from sqlalchemy import text

    if _current_revision(engine) == SCHEMA_HEAD:
        return
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite_once(engine)
        return
    if engine.dialect.name != "postgresql":
        upgrade_database(engine)
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            if _current_revision(engine) != SCHEMA_HEAD:
                upgrade_database(engine)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            lock.commit()


def _upgrade_sqlite_once(engine: Engine) -> None:
    """SQLite refuses a second writer's DDL at once (no waiting): a file lock beside the
    database makes the other processes wait for the first one's migration instead."""
    import fcntl

    path = engine.url.database
    if not path or path == ":memory:":
        upgrade_database(engine)
        return
    try:
        lock_file = open(f"{path}.migrate-lock", "w")  # noqa: SIM115  (held for the whole upgrade)
    except OSError:  # no such folder, read-only: the upgrade itself reports it
        upgrade_database(engine)
        return
    with lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if _current_revision(engine) != SCHEMA_HEAD:
            upgrade_database(engine)


def _current_revision(engine: Engine) -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as connection:
            current: str | None = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return current
    except DBAPIError:  # no table yet (a new database), or unreachable: the upgrade says which
        return None


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def downgrade_database(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def known_revisions() -> list[str]:
    """The schema revisions this Dosewise knows, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(MIGRATIONS)
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def schema_revision(engine: Engine) -> str:
    """The schema revision of a database (raises if it has none)."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None:
        raise ValueError("the database has no Dosewise schema")
    return revision


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: committed if the block ends normally, rolled back otherwise."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_only(engine: Engine) -> Iterator[Session]:
    """A transaction that only reads (one consistent snapshot; on SQLite it takes no write lock)."""
    reader = engine.execution_options(**{READ_ONLY: True})
    with Session(reader, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction on a plain connection, for the hot paths of every request that read
    a few columns (no ORM session); on SQLite it begins deferred and takes no write lock."""
    with engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            yield connection
