"""Durable storage of the diary: SQLAlchemy 2 tables, Alembic migrations (the schema is made
only by migrations), SQLite by default, PostgreSQL when ``DOSEWISE_DATABASE_URL`` says so.
ORM classes end in ``Row`` and never leave ``services``; stored plans are read and written by
one codec (``store.plan_codec``)."""
