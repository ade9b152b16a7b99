"""Gate quarantine rules, steward check frames and the quality settings, on tiny ingested landings."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from ecom.config import Settings
from ecom.contract import load_contract
from ecom.ingest import ingest, promote_pending, quarantine_rows, set_aside_waiting
from ecom.quality import steward_frames as frames
from ecom.quality.config import QUALITY_CONFIG_FILE, QualityConfigError, load_quality_config
from ecom.quality.quarantine import find_quarantine_rows
from ecom.quality.raw_gate import run_raw_gate
from ecom.warehouse import connect

AS_OF = date(2026, 1, 10)
CUSTOMERS_HEADER = "customer_id,gender\n"
ORDERS_HEADER = "order_id,customer_id,ordered_at,total_amount,discount_amount\n"
ITEMS_HEADER = "order_item_id,order_id,product_id,quantity,unit_price,discount_amount\n"


def land(settings: Settings, relative: str, text: str) -> None:
    path = settings.landing_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def quarantine(settings: Settings) -> tuple[list[str], list[tuple]]:
    """Run every rule, then quarantine what they found (and set aside the rows that wait) as the raw gate
    does; returns the outcomes and the gate's rejects (path, line, column, reason)."""
    config = load_quality_config()
    contract = load_contract()
    with connect(settings) as con:
        findings = find_quarantine_rows(
            con, contract, config.rules, config.event_time, AS_OF, settings.business_tz
        )
        [(found,)] = con.execute(f"select count(*) from {findings.relation}").fetchall()
        moved = quarantine_rows(con, findings.relation) + set_aside_waiting(con, contract, findings.relation)
        assert moved == found == sum(o.rows for o in findings.outcomes)
        outcomes = findings.outcomes
        rejects = con.execute(
            "select path, line, column_name, reason from audit.rejects order by path, line"
        ).fetchall()
        manifest = con.execute(
            "select path, rows_read, rows_loaded, rows_rejected, rows_waiting from audit.load_manifest "
            "where rows_read <> rows_loaded + rows_rejected + rows_waiting"
        ).fetchall()
    assert manifest == []  # every file still reconciles
    return [o.describe() for o in outcomes], rejects


def test_a_row_after_the_as_of_day_in_business_time_waits_and_is_no_reject(settings: Settings) -> None:
    """Stored in UTC, a naive landed timestamp is business local time (Asia/Shanghai, UTC+8): 2026-01-11
    01:30 local is 2026-01-10 17:30 UTC, the day after the as-of date all the same. It waits in
    raw_waiting, counted as waiting by its file, and audit.rejects holds nothing."""
    land(settings, "customers/c.csv", CUSTOMERS_HEADER + "c1,F\n")
    land(settings, "orders/o.csv", ORDERS_HEADER + "o0,c1,2026-01-10 23:30:00,5.00,\n"
         + "o1,c1,2026-01-11 01:30:00,5.00,\n")
    ingest(settings, "b1")

    outcomes, rejects = quarantine(settings)

    assert outcomes == ["orders: 1 row(s) after the as-of date wait (rule future_timestamps)"]
    assert rejects == []
    with connect(settings) as con:
        assert con.execute("select order_id, _line from raw_waiting.orders").fetchall() == [("o1", 3)]
        assert con.execute("select order_id from raw_pending.orders").fetchall() == [("o0",)]
        assert con.execute(
            "select rows_read, rows_loaded, rows_rejected, rows_waiting from audit.load_manifest "
            "where path = 'orders/o.csv'"
        ).fetchall() == [(2, 1, 0, 1)]


def test_gate_rules_quarantine_duplicates_unknown_customers_and_wrong_totals_and_hold_future_rows(
    settings: Settings,
) -> None:
    land(settings, "customers/c.csv", CUSTOMERS_HEADER + "c1,F\nc2,M\n")
    land(
        settings,
        "orders/o.csv",
        ORDERS_HEADER
        + "\n".join(
            [
                "o1,c1,2026-01-05 10:00:00,90.00,10.00",  # 2 x 50 - order discount 10 = 90: fine
                "o2,c1,2026-01-05 11:00:00,30.00,",  # items add up to 25
                "o3,c9,2026-01-05 12:00:00,5.00,",  # unknown customer
                "o4,c2,2026-01-12 09:00:00,5.00,",  # after the as-of day: waits
                "o5,c2,2026-01-06 09:00:00,5.00,",
                "o5,c2,2026-01-06 09:00:00,5.00,",  # exact duplicate of line 6
                "o6,c2,2026-01-07 09:00:00,5.00,",
                "o6,c2,2026-01-07 09:00:00,6.00,",  # same key, other values
                "o7,c1,2026-01-10 23:30:00,5.00,",  # the as-of day itself, late evening: fine
            ]
        )
        + "\n",
    )
    # A backfill: a file of a later day's partition vouches for its rows (as-of date or not).
    land(settings, "orders/dt=2026-01-12/o.csv", ORDERS_HEADER + "o8,c1,2026-01-12 09:00:00,5.00,\n")
    land(settings, "order_items/i.csv", ITEMS_HEADER + "i1,o1,p1,2,50.00,\ni2,o2,p1,1,30.00,5.00\n")
    ingest(settings, "b1")

    outcomes, rejects = quarantine(settings)

    assert outcomes == [
        "orders: 1 row(s) quarantined by rule exact_duplicates",
        "orders: 2 row(s) quarantined by rule conflicting_keys",
        "orders: 1 row(s) after the as-of date wait (rule future_timestamps)",
        "orders: 1 row(s) quarantined by rule unknown_customers",
        "orders: 1 row(s) quarantined by rule order_totals",
    ]
    assert rejects == [
        (
            "orders/o.csv",
            3,
            "total_amount",
            "order_items add up to 25.00 less the order discount 0.00 = 25.00, not total_amount 30.00",
        ),
        ("orders/o.csv", 4, "customer_id", "customer_id 'c9' is in no landed customers row"),
        ("orders/o.csv", 7, None, "exact duplicate of line 6 of the same file"),
        (
            "orders/o.csv",
            8,
            "order_id",
            "primary key order_id='o6' appears with different values on lines 8, 9 of the same file",
        ),
        (
            "orders/o.csv",
            9,
            "order_id",
            "primary key order_id='o6' appears with different values on lines 8, 9 of the same file",
        ),
    ]
    with duckdb.connect(str(settings.warehouse_db)) as con:
        assert con.execute(
            "select rows_read, rows_loaded, rows_rejected, rows_waiting from audit.load_manifest "
            "where path = 'orders/o.csv'"
        ).fetchall() == [(9, 3, 5, 1)]
        assert sorted(r[0] for r in con.execute("select order_id from raw_pending.orders").fetchall()) == [
            "o1",
            "o5",
            "o7",
            "o8",
        ]


def test_a_rule_judges_the_rows_earlier_rules_left_in_other_tables_too(settings: Settings) -> None:
    """c2's two conflicting customers rows are quarantined first, so c2's order has no landed customer."""
    land(settings, "customers/c.csv", CUSTOMERS_HEADER + "c1,F\nc2,M\nc2,F\n")
    orders = ["o1,c1,2026-01-05 10:00:00,5.00,", "o2,c2,2026-01-05 11:00:00,5.00,"]
    land(settings, "orders/o.csv", ORDERS_HEADER + "\n".join(orders) + "\n")
    ingest(settings, "b1")

    outcomes, rejects = quarantine(settings)

    assert outcomes == [
        "customers: 2 row(s) quarantined by rule conflicting_keys",
        "orders: 1 row(s) quarantined by rule unknown_customers",
    ]
    assert [(path, line) for path, line, _, _ in rejects] == [
        ("customers/c.csv", 3), ("customers/c.csv", 4), ("orders/o.csv", 3)
    ]


def test_fixing_a_pending_file_in_place_releases_its_quarantined_rows(settings: Settings) -> None:
    land(settings, "customers/c.csv", CUSTOMERS_HEADER + "c1,F\n")
    land(
        settings,
        "orders/o.csv",
        ORDERS_HEADER + "o1,c1,2026-01-05 10:00:00,5.00,\no2,c9,2026-01-05 11:00:00,5.00,\n",
    )
    ingest(settings, "b1")
    assert len(quarantine(settings)[1]) == 1

    land(settings, "customers/c2.csv", CUSTOMERS_HEADER + "c9,U\n")  # the missing customer lands
    ingest(settings, "b2")
    outcomes, rejects = quarantine(settings)
    assert (outcomes, len(rejects)) == ([], 1)  # the quarantined row stays so until its file is re-landed
    land(
        settings,
        "orders/o.csv",
        ORDERS_HEADER + "o1,c1,2026-01-05 10:00:00,5.00,\no2,c9,2026-01-05 11:00:00,5.00,\n"
        "o3,c1,2026-01-05 12:00:00,7.00,\n",
    )  # the pending file is fixed in place (re-landed)
    ingest(settings, "b3")
    outcomes, rejects = quarantine(settings)
    assert (outcomes, rejects) == ([], [])
    with duckdb.connect(str(settings.warehouse_db)) as con:
        assert con.execute(
            "select rows_read, rows_loaded, rows_rejected from audit.load_manifest "
            "where path = 'orders/o.csv' and status = 'pending'"
        ).fetchall() == [(3, 3, 0)]


def test_ingest_quarantines_values_outside_the_contract(settings: Settings) -> None:
    land(
        settings,
        "orders/o.csv",
        "order_id,customer_id,ordered_at,total_amount,status\n"
        "o1,c1,2026-01-05 10:00:00,-1.00,paid\no2,c1,2026-01-05 10:00:00,1.00,on_hold\n"
        "o3,c1,2026-01-05 10:00:00,1.00,paid\n",
    )
    land(
        settings,
        "reviews/r.csv",
        "review_id,product_id,customer_id,rating,reviewed_at\n"
        "r1,p1,c1,7,2026-01-05 10:00:00\nr2,p1,c1,0,2026-01-05 10:00:00\nr3,p1,c1,5,2026-01-05 10:00:00\n",
    )
    result = ingest(settings, "b1")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 2, 4)
    with duckdb.connect(str(settings.warehouse_db)) as con:
        reasons = con.execute(
            "select line, column_name, reason from audit.rejects order by path, line"
        ).fetchall()
    assert reasons == [
        (2, "total_amount", "is below the minimum 0"),
        (3, "status", "orders.status value not mapped in dbt_project/seeds/shop_vocabulary.csv (vocabulary "
                      "order_status): map it there to one of paid, shipped, completed, returned, cancelled"),
        (2, "rating", "is above the maximum 5"),
        (3, "rating", "is below the minimum 1"),
    ]


def test_volume_freshness_late_rows_and_schema_change_frames(settings: Settings) -> None:
    config = load_quality_config()
    # 35 days of 30 events a day, but the day before the as-of date has 3; the first file is accepted.
    first = AS_OF - timedelta(days=34)
    header = "event_id,session_id,event_type,occurred_at\n"
    rows = [
        f"e{d}_{n},s1,page_view,{first + timedelta(days=d)} 12:00:00"
        for d in range(35)
        for n in range(3 if d == 33 else 30)
    ]
    land(settings, "events/dt=2025-12-01/old.csv", header + "\n".join(rows[:30]) + "\n")
    ingest(settings, "b1")
    promote_pending(settings)
    land(
        settings,
        f"events/dt={AS_OF}/new.csv",
        header.replace("\n", ",device\n") + "\n".join(f"{r},mobile" for r in rows[30:]) + "\n",
    )
    ingest(settings, "b2")

    with duckdb.connect(str(settings.warehouse_db)) as con:
        volume = frames.daily_volume(con, config, AS_OF, settings.business_tz)
        fresh = frames.freshness(con, config, AS_OF, settings.business_tz)
        late = frames.late_rows(con, config, settings.business_tz)
        schema = frames.schema_changes(con, load_contract())
    assert volume["table_name"].unique().tolist() == ["events"]
    assert volume["rows"].tolist() == [30, 30, 30, 30, 30, 3, 30]
    assert volume["baseline_rows"].unique().tolist() == [30.0]
    assert volume["ratio"].round(2).tolist() == [1, 1, 1, 1, 1, 0.1, 1]
    assert fresh.to_dict("records") == [
        {"table_name": "events", "last_day": AS_OF, "days_since_last_row": 0, "max_days": 3}
    ]
    # Rows more than 7 days before their partition (AS_OF): the new file's days 1 to 26 of 30 rows each.
    [late_row] = late.to_dict("records")
    assert (late_row["file_path"], late_row["late_rows"]) == (f"events/dt={AS_OF}/new.csv", 26 * 30)
    assert schema.to_dict("records") == [
        {
            "table_name": "events",
            "file_path": f"events/dt={AS_OF}/new.csv",
            "added_columns": "device",
            "removed_columns": "",
            "schema_changed": True,
            "compared_with": "last accepted file",
        }
    ]


def values_sql(values: list[object]) -> str:
    return "select * from (values " + ", ".join(f"({v!r})" for v in values) + ") as t(value)"


def test_distribution_statistics_match_their_definitions() -> None:
    def shift(statistic: str, a: list[object], b: list[object]) -> tuple:
        sql = frames.distribution_shift_sql(statistic, values_sql(a), values_sql(b))
        with duckdb.connect() as con:
            [row] = con.execute(sql).fetchall()
        return row

    # CDFs at 2: a = 0.5, b = 0 (and at 4: 1 vs 0.5): the largest gap is 0.5.
    assert shift(frames.KS, [1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0]) == (0.5, 4, 4)
    assert shift(frames.KS, [1.0, 2.0], [1.0, 2.0])[0] == 0.0
    # shares: a = {x: .5, y: .5}, b = {x: .25, y: .25, z: .5}: (0.25 + 0.25 + 0.5) / 2
    assert shift(frames.TVD, ["x", "y"], ["x", "y", "z", "z"]) == (0.5, 2, 4)


def test_a_typo_in_the_quality_settings_is_refused_naming_the_entry(tmp_path: Path) -> None:
    document = yaml.safe_load(QUALITY_CONFIG_FILE.read_text(encoding="utf-8"))
    document["volume"]["min_ration"] = document["volume"].pop("min_ratio")
    path = tmp_path / "quality.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(QualityConfigError, match=r"volume has unknown entries \['min_ration'\]"):
        load_quality_config(path)
    document["volume"]["min_ratio"] = document["volume"].pop("min_ration")
    document["files"]["no_rows"] = "fatal"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(QualityConfigError, match=r"files\.no_rows is 'fatal', not one of error, warning"):
        load_quality_config(path)


def test_null_rate_and_distribution_shift_of_new_rows_against_accepted_ones(settings: Settings) -> None:
    config = load_quality_config()
    header = "order_id,customer_id,ordered_at,total_amount,status,payment_method\n"
    accepted = [f"a{n},c1,2026-01-05 10:00:00,{10 + n % 10}.00,paid,alipay" for n in range(60)]
    land(settings, "orders/accepted.csv", header + "\n".join(accepted) + "\n")
    ingest(settings, "b1")
    promote_pending(settings)
    # New rows: payment_method empty on 30 of 60; totals 100 above; status cancelled on 45 of 60.
    new = [
        f"p{n},c1,2026-01-06 10:00:00,{110 + n % 10}.00,{'cancelled' if n < 45 else 'paid'},"
        f"{'' if n % 2 else 'wechat_pay'}"
        for n in range(60)
    ]
    land(settings, "orders/new.csv", header + "\n".join(new) + "\n")
    ingest(settings, "b2")

    with duckdb.connect(str(settings.warehouse_db)) as con:
        nulls = frames.null_rate_shifts(con, config)
        shifts = frames.distribution_shifts(con, config)
    payment = nulls[nulls["column_name"] == "payment_method"].iloc[0]
    assert (payment["accepted_null_rate"], payment["pending_null_rate"]) == (0.0, 0.5)
    assert payment["null_rate_increase"] == 0.5 > payment["max_increase"]
    by_column = {row.column_name: (row.statistic, row.shift) for row in shifts.itertuples()}
    assert by_column["total_amount"] == ("ks", 1.0)  # no overlap at all
    assert by_column["status"] == ("tvd", 0.75)  # paid 1.0 → 0.25, cancelled 0 → 0.75
    assert "payment_method" not in by_column  # 30 non-null new values: under min_rows (50), not judged


def test_new_values_the_vocabulary_seed_does_not_map_are_a_warning_naming_them(settings: Settings) -> None:
    land(settings, "customers/c.csv", "customer_id,acquisition_channel\nc1,search\nc2,tv\nc3,tv\nc4,Radio\n")
    land(settings, "orders/o.csv", ORDERS_HEADER + "o1,c1,2026-01-09 10:00:00,5.00,0\n")
    ingest(settings, "b1")
    result = run_raw_gate(settings, "run-vocabulary", AS_OF)
    unmapped = sorted((c.severity, c.table, c.column, c.message) for c in result.checks
                      if c.suite == "raw_gate.unmapped_values")
    seed = "dbt_project/seeds/shop_vocabulary.csv"
    assert unmapped == [
        ("warning", "customers", "acquisition_channel",
         f"customers, column acquisition_channel: 1 new row(s) hold 'Radio', which {seed} does not map to a "
         "group; they load under that name"),
        ("warning", "customers", "acquisition_channel",
         f"customers, column acquisition_channel: 2 new row(s) hold 'tv', which {seed} does not map to a "
         "group; they load under that name"),
    ]
    with duckdb.connect(str(settings.warehouse_db)) as con:
        recorded = con.execute("select severity, message from audit.validation_results "
                               "where suite = 'raw_gate.unmapped_values' and not success").fetchall()
    assert sorted(recorded) == [(severity, message) for severity, _, _, message in unmapped]
