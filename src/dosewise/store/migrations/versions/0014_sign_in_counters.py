"""sign-in counters: one row per limited key, replacing one row per failed sign-in (issue 15)

- ``sign_in_counters``: failed password tries under one key (a known browser, an account from
  unknown browsers, an account from one address, an address, an account's own pages), kept as
  a SHA-256 of the key; read and written under a row lock, so parallel guesses are counted one
  after the other (docs/adr/0017).
- ``login_attempts`` goes: it was only a rate-limit log (never backed up), read then written,
  which let parallel guesses through on PostgreSQL.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_counters",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_sign_in_counters"),
    )
    op.create_index("ix_sign_in_counters_last_failure_at", "sign_in_counters", ["last_failure_at"])
    op.drop_table("login_attempts")


def downgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_email", "login_attempts", ["email"])
    op.create_index("ix_login_attempts_client", "login_attempts", ["client"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    op.drop_table("sign_in_counters")
