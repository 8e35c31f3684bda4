"""supply: a ledger of each product's stock (counted, collected, adjusted)

- ``stock_events``: one row per count ("I have 37 tablets now"), refill ("collected 100") or
  adjustment (lost or found, with a note), with who recorded it and when. Quantities are
  thousandths of the product's unit (a tablet, a packet, a mL). The stock itself is derived
  (services.supply): never stored, so a corrected dose changes it at once.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity_milli", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('counted', 'collected', 'adjusted')", name="ck_stock_events_kind"),
        sa.CheckConstraint(
            "(kind = 'counted' AND quantity_milli >= 0) OR (kind = 'collected' AND quantity_milli > 0)"
            " OR (kind = 'adjusted' AND quantity_milli != 0)",
            name="ck_stock_events_quantity",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_stock_events_patient_id_patients", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="fk_stock_events_product_id_products", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stock_events"),
    )
    op.create_index("ix_stock_events_patient_recorded", "stock_events", ["patient_id", "recorded_at"])
    op.create_index("ix_stock_events_product_id", "stock_events", ["product_id"])


def downgrade() -> None:
    op.drop_index("ix_stock_events_product_id", table_name="stock_events")
    op.drop_index("ix_stock_events_patient_recorded", table_name="stock_events")
    op.drop_table("stock_events")
