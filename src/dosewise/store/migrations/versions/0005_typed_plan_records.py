"""stored plans become typed, versioned records (format 2: whole micrograms, recipes as
portions); the zone and the kidney values they were made for become columns

Revision ID: 0005
Revises: 0004

Format 1 was the display JSON of ``dosewise plan --json`` (mg as floats, recipes as text).
Each row is converted: amounts back to whole micrograms (format 1 printed whole µg in mg),
recipes made again from the plan's own products (the same deterministic choice that made the
plan), sources and findings kept as they were shown. A row that cannot be converted stops the
upgrade with its plan number, so nothing is half-converted.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("format", sa.Integer(), nullable=False, server_default="2"))
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("crcl_ml_min", sa.Float(), nullable=True))
        batch.add_column(sa.Column("kidney_band", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("record", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT plans.id, plans.times, plans.plan_json, patients.time_zone FROM plans "
            "JOIN patients ON patients.id = plans.patient_id"
        )
    ).all()
    for plan_id, times, plan_json, zone in rows:
        record = _convert(plan_id, json.loads(plan_json), times, zone)
        kidney = record["kidney"]
        connection.execute(
            sa.text(
                "UPDATE plans SET record = :record, time_zone = :zone, crcl_ml_min = :crcl, "
                "kidney_band = :band WHERE id = :id"
            ),
            {
                "record": json.dumps(record, ensure_ascii=False, separators=(",", ":")),
                "zone": record["time_zone"],
                "crcl": None if kidney is None else kidney["crcl_ml_min"],
                "band": None if kidney is None else kidney["band"],
                "id": plan_id,
            },
        )
    with op.batch_alter_table("plans") as batch:
        batch.alter_column("record", existing_type=sa.Text(), nullable=False)
        batch.alter_column("time_zone", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("plan_json")


def downgrade() -> None:
    """Back to format 1: the display JSON, made from the record (recipes as text again)."""
    from dosewise.exporters.plan_json import plan_to_dict
    from dosewise.monographs import load_monograph
    from dosewise.store.plan_codec import decode_plan

    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("plan_json", sa.Text(), nullable=True))
    connection = op.get_bind()
    for plan_id, text in connection.execute(sa.text("SELECT id, record FROM plans")).all():
        record = decode_plan(text)
        view = plan_to_dict(
            record.plan, load_monograph(record.plan.drug), times=record.times, time_zone=record.time_zone
        )
        connection.execute(
            sa.text("UPDATE plans SET plan_json = :json WHERE id = :id"),
            {"json": json.dumps(view), "id": plan_id},
        )
    with op.batch_alter_table("plans") as batch:
        batch.alter_column("plan_json", existing_type=sa.Text(), nullable=False)
        for column in ("record", "kidney_band", "crcl_ml_min", "time_zone", "format"):
            batch.drop_column(column)


def _ug(mg: float) -> int:
    return round(mg * 1000)


def _convert(plan_id: int, data: dict[str, Any], times_column: str, patient_zone: str) -> dict[str, Any]:
    from dosewise.domain.products import build_dose_menu, parse_product_specs
    from dosewise.monographs import load_monograph

    try:
        monograph = load_monograph(data["drug"])
        products = parse_product_specs(data["products"], monograph)
        doses = [_ug(mg) for step in data["steps"] for mg in step["doses_mg"]]
        menu = build_dose_menu(products, cap_ug=max(doses))
        index = {product: number for number, product in enumerate(products)}
        steps = []
        for step in data["steps"]:
            recipes = []
            for mg in step["doses_mg"]:
                dose = _ug(mg)
                recipe = menu.recipe(dose) if dose else None
                recipes.append(
                    None
                    if recipe is None
                    else [[index[p.product], p.count, p.fraction, p.volume_ul] for p in recipe.portions]
                )
            steps.append(
                {
                    "start": step["start"],
                    "days": step["days"],
                    "doses_ug": [_ug(mg) for mg in step["doses_mg"]],
                    "requested_daily_ug": _ug(step["requested_daily_mg"]),
                    "recipes": recipes,
                }
            )
        kidney = data.get("kidney")
        return {
            "format": 2,
            "drug": data["drug"],
            "kind": data["kind"],
            "doses_per_day": data["doses_per_day"],
            "times": data.get("times") or times_column.split(","),
            "time_zone": data.get("time_zone") or patient_zone,
            "products": [
                {"form": p.form, "strength_ug": p.strength_ug, "split": p.split, "step_ul": p.step_ul}
                for p in products
            ],
            "kidney": None
            if kidney is None
            else {
                "band": kidney["band"],
                "crcl_ml_min": kidney["crcl_ml_min"],
                "egfr_ckd_epi_2021": kidney["egfr_ckd_epi_2021"],
                "dose_factor": kidney["dose_factor_fraction"],
                "requires_clinician": kidney["requires_clinician"],
                "sources": [source["key"] for source in kidney["sources"]],
            },
            "max_daily_ug": _ug(data["max_daily_mg"]),
            "steps": steps,
            "warnings": [_finding(f) for f in data["warnings"]],
            "cautions": [_finding(f) for f in data["cautions"]],
            "sources": [source["key"] for source in data["sources"]],
            "disclaimer": data["disclaimer"],
            "stop_date": data.get("stop_date"),
            "normal_kidney_target_ug": None,  # format 1 did not keep it (only the PK view used it)
        }
    except Exception as error:  # stop the upgrade, naming the row
        raise RuntimeError(f"plan {plan_id} cannot be converted to format 2: {error!r}") from error


def _finding(finding: dict[str, str]) -> dict[str, str]:
    return {key: finding[key] for key in ("code", "severity", "message", "source")}
