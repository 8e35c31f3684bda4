"""Durable storage of the diary (issue 5, in progress): SQLAlchemy 2 tables, Alembic
migrations (the schema is created only by migrations), SQLite by default, PostgreSQL when
``DOSEWISE_DATABASE_URL`` says so. ORM classes end in ``Row`` and never leave ``services``."""
