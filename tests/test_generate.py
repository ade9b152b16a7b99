"""The demo data generator: reproducible, contract-conform, realistic shop data in the landing layout."""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ecom.contract import load_contract
from ecom.generate import generate_shop
from ecom.ingest.casting import bound_sql
from ecom.vocabulary import load_vocabulary

CONTRACT = load_contract()
VOCABULARY = load_vocabulary()
SMALL = {"customers": 200, "days": 60, "seed": 7}
# A decimal as the contract reads it: digits, a '.' point, two decimals (the generator always writes two).
TYPE_PATTERNS = {
    "timestamp": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "decimal": r"^\d+\.\d{2}$",
    "integer": r"^-?\d+$",
}
CAST_TYPES = {"timestamp": "TIMESTAMP", "date": "DATE", "decimal": "DECIMAL(18,2)", "integer": "BIGINT"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shop")
    generate_shop(out, **SMALL)
    return out


@pytest.fixture(scope="module")
def parquet_shop(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parquet_shop")
    generate_shop(out, **SMALL, fmt="parquet")
    return out


@pytest.fixture(scope="module")
def long_shop(tmp_path_factory) -> Path:
    """Eight months, enough for cohorts to show how repeat buying decays."""
    out = tmp_path_factory.mktemp("long_shop")
    generate_shop(out, customers=1500, days=240, seed=11)
    return out


@pytest.fixture(scope="module")
def double_11_shop(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("double_11_shop")
    generate_shop(out, customers=300, days=60, seed=3, end_date=date(2025, 11, 30))
    return out


def checksums(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@cache
def connect(
    root: Path, fmt: str = "csv", tables: tuple[str, ...] = tuple(CONTRACT.tables)
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding the generated shop's `tables` as text (loaded once per shop)."""
    con = duckdb.connect()
    for table in map(CONTRACT.table, tables):
        pattern = f"{root}/{table.name}/**/*.{fmt}"
        if not list(root.glob(f"{table.name}/**/*.{fmt}")):
            columns = ", ".join(f"{c} VARCHAR" for c in table.column_names)
            con.execute(f"CREATE TABLE {table.name} ({columns})")
            continue
        reader = (
            f"read_csv('{pattern}', all_varchar = true, header = true)"
            if fmt == "csv"
            else f"read_parquet('{pattern}')"
        )
        con.execute(f"CREATE TABLE {table.name} AS SELECT * FROM {reader}")
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


# --- reproducibility ------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(shop, tmp_path):
    generate_shop(tmp_path, **SMALL)
    assert checksums(tmp_path) == checksums(shop)


def test_another_seed_gives_other_data(shop, tmp_path):
    generate_shop(tmp_path, **{**SMALL, "seed": 8})
    theirs, ours = checksums(tmp_path), checksums(shop)
    common = set(theirs) & set(ours)
    assert common
    differing = [path for path in common if theirs[path] != ours[path]]
    assert len(differing) >= 0.9 * len(common)
    assert all(path in differing for path in common if path.startswith(("orders/", "events/", "customers/")))


# --- the contract ---------------------------------------------------------------------------------


def test_every_csv_file_has_exactly_the_contract_columns(shop):
    for table in CONTRACT.tables.values():
        files = sorted((shop / table.name).rglob("*.csv"))
        assert files, table.name
        for path in files:
            with open(path, encoding="utf-8", newline="") as f:
                assert next(csv.reader(f)) == table.column_names, path


def test_every_parquet_file_has_exactly_the_contract_columns(parquet_shop):
    for table in CONTRACT.tables.values():
        files = sorted((parquet_shop / table.name).rglob("*.parquet"))
        assert files, table.name
        for path in files:
            assert pq.read_schema(path).names == table.column_names, path


@pytest.mark.parametrize("table_name", list(CONTRACT.tables))
def test_values_respect_the_contract(shop, table_name):
    con = connect(shop)
    table = CONTRACT.table(table_name)
    assert scalar(con, f"SELECT count(*) FROM {table_name}") > 0
    for column in table.columns:
        values = f"SELECT {column.name} AS v FROM {table_name}"
        where = f"FROM ({values}) WHERE v IS NOT NULL"
        assert scalar(con, f"SELECT count(*) {where} AND v = ''") == 0, column.name
        if not column.nullable:
            assert scalar(con, f"SELECT count(*) FROM ({values}) WHERE v IS NULL") == 0, column.name
        if column.type in TYPE_PATTERNS:
            bad = scalar(
                con, f"SELECT count(*) {where} AND NOT regexp_matches(v, '{TYPE_PATTERNS[column.type]}')"
            )
            assert bad == 0, column.name
            untypable = f"SELECT count(*) {where} AND TRY_CAST(v AS {CAST_TYPES[column.type]}) IS NULL"
            assert scalar(con, untypable) == 0, column.name
        if column.allowed_values:
            allowed = ", ".join(f"'{v}'" for v in column.allowed_values)
            assert scalar(con, f"SELECT count(*) {where} AND v NOT IN ({allowed})") == 0, column.name
        if column.vocabulary:  # the demo's seed maps every name the demo uses (and its empty values)
            unmapped = VOCABULARY.unmapped_sql(column.vocabulary.name, "v")
            empty_too = column.vocabulary.quarantines_unmapped
            rows = f"FROM ({values}) WHERE" if empty_too else f"{where} AND"
            assert scalar(con, f"SELECT count(*) {rows} {unmapped}") == 0, column.name
        typed = f"CAST(v AS {CAST_TYPES.get(column.type, 'VARCHAR')})"
        if column.min is not None:
            below = f"SELECT count(*) {where} AND {typed} < {bound_sql(column, column.min)}"
            assert scalar(con, below) == 0, column.name
        if column.max is not None:
            above = f"SELECT count(*) {where} AND {typed} > {bound_sql(column, column.max)}"
            assert scalar(con, above) == 0, column.name


@pytest.mark.parametrize("table_name", [t for t in CONTRACT.tables if t != "repayments"])
def test_primary_keys_are_unique(shop, table_name):
    con = connect(shop)
    key = ", ".join(CONTRACT.table(table_name).primary_key)
    rows = scalar(con, f"SELECT count(*) FROM {table_name}")
    assert scalar(con, f"SELECT count(*) FROM (SELECT DISTINCT {key} FROM {table_name})") == rows


def test_a_repayment_is_sent_when_due_and_once_more_only_when_paid_late(shop):
    con = connect(shop)
    rows = scalar(con, "SELECT count(*) FROM repayments")
    assert rows > 0
    assert scalar(con, "SELECT count(*) FROM (SELECT DISTINCT repayment_id, paid_at FROM repayments)") == rows
    versions = "SELECT repayment_id, count(*) AS n, count(paid_at) AS paid FROM repayments GROUP BY 1"
    assert scalar(con, f"SELECT count(*) FROM ({versions}) WHERE n > 2 OR (n = 2 AND paid <> 1)") == 0


def test_identifiers_keep_their_leading_zeros(shop):
    con = connect(shop)
    assert (
        scalar(con, "SELECT count(*) FROM customers WHERE NOT regexp_matches(customer_id, '^\\d{6}$')") == 0
    )
    assert scalar(con, "SELECT min(customer_id) FROM customers") == "000001"
    assert scalar(con, "SELECT count(*) FROM orders WHERE NOT regexp_matches(order_id, '^O\\d{9}$')") == 0
    assert scalar(con, "SELECT count(*) FROM orders WHERE customer_id LIKE '000%'") > 0
    first_file = sorted((shop / "customers").rglob("*.csv"))[0].read_text(encoding="utf-8")
    assert '"000001"' in first_file.splitlines()[1]


def test_personal_data_looks_real(shop):
    con = connect(shop)
    assert (
        scalar(con, "SELECT count(*) FROM customers WHERE NOT regexp_matches(phone, '^1[3-9]\\d{9}$')") == 0
    )
    assert (
        scalar(
            con, "SELECT count(*) FROM customers WHERE NOT regexp_matches(email, '^[a-z]+\\d+@[a-z0-9.]+$')"
        )
        == 0
    )
    assert scalar(con, "SELECT count(*) FROM customers WHERE name IS NOT NULL") > 150
    assert scalar(con, "SELECT count(*) FROM orders WHERE shipping_address IS NOT NULL") > 0


def test_city_tier_and_province_belong_to_the_city(shop):
    con = connect(shop)
    pairs = con.execute(
        "SELECT DISTINCT city, city_tier, province FROM customers WHERE city IS NOT NULL"
    ).fetchall()
    assert ("Shanghai", "1", "Shanghai") in pairs or ("Beijing", "1", "Beijing") in pairs
    assert len({city for city, _, _ in pairs}) == len(pairs)  # one tier and province per city
    assert scalar(con, "SELECT count(*) FROM customers WHERE (city IS NULL) <> (city_tier IS NULL)") == 0


# --- consistency between tables -------------------------------------------------------------------


def test_references_between_tables_resolve(shop):
    con = connect(shop)
    orphans = {
        "order customer": "SELECT customer_id FROM orders EXCEPT SELECT customer_id FROM customers",
        "line order": "SELECT order_id FROM order_items EXCEPT SELECT order_id FROM orders",
        "line product": "SELECT product_id FROM order_items EXCEPT SELECT product_id FROM products",
        "event order": "SELECT order_id FROM events WHERE order_id IS NOT NULL "
        "EXCEPT SELECT order_id FROM orders",
        "event product": "SELECT product_id FROM events WHERE product_id IS NOT NULL "
        "EXCEPT SELECT product_id FROM products",
        "event customer": "SELECT customer_id FROM events WHERE customer_id IS NOT NULL "
        "EXCEPT SELECT customer_id FROM customers",
        "touch customer": "SELECT customer_id FROM touchpoints WHERE customer_id IS NOT NULL "
        "EXCEPT SELECT customer_id FROM customers",
        "review line": "SELECT order_id, product_id, customer_id FROM reviews EXCEPT "
        "SELECT i.order_id, i.product_id, o.customer_id FROM order_items i JOIN orders o USING (order_id)",
        "order without lines": "SELECT order_id FROM orders EXCEPT SELECT order_id FROM order_items",
    }
    for what, sql in orphans.items():
        assert con.execute(sql).fetchall() == [], what


def test_order_totals_are_the_sum_of_their_lines_less_discounts(shop):
    con = connect(shop)
    mismatches = scalar(
        con,
        """
        WITH lines AS (
            SELECT order_id, sum(CAST(quantity AS INT) * CAST(unit_price AS DECIMAL(18,2))
                                 - coalesce(CAST(discount_amount AS DECIMAL(18,2)), 0)) AS net
            FROM order_items GROUP BY order_id
        )
        SELECT count(*) FROM orders JOIN lines USING (order_id)
        WHERE CAST(total_amount AS DECIMAL(18,2))
              <> net - coalesce(CAST(orders.discount_amount AS DECIMAL(18,2)), 0)
    """,
    )
    assert mismatches == 0
    assert scalar(con, "SELECT count(*) FROM orders WHERE coupon_code IS NOT NULL") > 0
    assert (
        scalar(con, "SELECT count(*) FROM orders WHERE (coupon_code IS NULL) <> (discount_amount IS NULL)")
        == 0
    )


def test_things_happen_in_a_possible_order(shop):
    con = connect(shop)
    checks = {
        "order before signup": "SELECT count(*) FROM orders JOIN customers USING (customer_id) "
        "WHERE ordered_at::TIMESTAMP < signup_at::TIMESTAMP",
        "signed-in event before signup": "SELECT count(*) FROM events JOIN customers USING (customer_id) "
        "WHERE occurred_at::TIMESTAMP < signup_at::TIMESTAMP",
        "review before order": "SELECT count(*) FROM reviews r JOIN orders o USING (order_id) "
        "WHERE r.reviewed_at::TIMESTAMP <= o.ordered_at::TIMESTAMP",
    }
    for what, sql in checks.items():
        assert scalar(con, sql) == 0, what


def test_every_order_has_one_purchase_event_at_its_time_by_its_customer(shop):
    con = connect(shop)
    orders = scalar(con, "SELECT count(*) FROM orders")
    matched = scalar(
        con,
        """
        SELECT count(*) FROM orders o JOIN events e
          ON e.order_id = o.order_id AND e.event_type = 'purchase'
         AND e.occurred_at = o.ordered_at AND e.customer_id = o.customer_id AND e.platform = o.platform
    """,
    )
    assert matched == orders
    assert scalar(con, "SELECT count(*) FROM events WHERE event_type = 'purchase'") == orders
    assert (
        scalar(con, "SELECT count(*) FROM events WHERE (event_type = 'search') <> (search_query IS NOT NULL)")
        == 0
    )
    sessions = scalar(con, "SELECT count(DISTINCT session_id) FROM events")
    assert sessions > 3 * orders  # most visits buy nothing
    one_start = (
        "SELECT count(*) FROM (SELECT session_id FROM events GROUP BY 1 HAVING count(*) FILTER "
        "(WHERE event_type = 'session_start') <> 1)"
    )
    assert scalar(con, one_start) == 0


def test_visitors_touched_before_signup_are_recognised_after_signing_in(shop):
    con = connect(shop)
    stitched = scalar(
        con,
        """
        SELECT count(DISTINCT t.anonymous_id)
        FROM touchpoints t
        JOIN events e ON e.anonymous_id = t.anonymous_id AND e.customer_id IS NOT NULL
        JOIN customers c ON c.customer_id = e.customer_id
        WHERE t.customer_id IS NULL AND t.occurred_at::TIMESTAMP < c.signup_at::TIMESTAMP
    """,
    )
    assert stitched >= 20
    devices_shared_by_customers = scalar(
        con,
        """
        SELECT count(*) FROM (
            SELECT anonymous_id FROM (
                SELECT anonymous_id, customer_id FROM events
                UNION SELECT anonymous_id, customer_id FROM touchpoints
            ) WHERE customer_id IS NOT NULL AND anonymous_id IS NOT NULL
            GROUP BY 1 HAVING count(DISTINCT customer_id) > 1
        )
    """,
    )
    assert devices_shared_by_customers == 0


def test_most_orders_have_zero_to_five_touches_in_the_30_days_before(shop):
    con = connect(shop)
    touches = con.execute("""
        WITH devices AS (
            SELECT DISTINCT anonymous_id, customer_id FROM events
            WHERE customer_id IS NOT NULL AND anonymous_id IS NOT NULL
        ),
        touches AS (
            SELECT t.occurred_at::TIMESTAMP AS at, coalesce(t.customer_id, d.customer_id) AS customer_id
            FROM touchpoints t
            LEFT JOIN devices d ON t.customer_id IS NULL AND d.anonymous_id = t.anonymous_id
        )
        SELECT o.order_id, count(t.at) AS touches
        FROM orders o LEFT JOIN touches t
          ON t.customer_id = o.customer_id
         AND t.at BETWEEN o.ordered_at::TIMESTAMP - INTERVAL 30 DAY AND o.ordered_at::TIMESTAMP
        GROUP BY 1
    """).fetchall()
    counts = [n for _, n in touches]
    assert sum(n <= 5 for n in counts) / len(counts) >= 0.8
    assert sum(n >= 1 for n in counts) / len(counts) >= 0.5
    never_bought = scalar(
        con,
        """
        SELECT count(*) FROM touchpoints
        WHERE customer_id IS NULL
          AND anonymous_id NOT IN (SELECT anonymous_id FROM events WHERE customer_id IS NOT NULL)
    """,
    )
    assert never_bought > 0  # some touches lead nowhere


def test_marketing_spend_follows_the_campaigns_of_the_touches(shop):
    con = connect(shop)
    assert scalar(con, "SELECT count(*) FROM marketing_spend WHERE channel = 'direct'") == 0
    assert (
        scalar(con, "SELECT count(*) FROM touchpoints WHERE channel = 'direct' AND campaign_id IS NOT NULL")
        == 0
    )
    foreign = con.execute("""
        SELECT channel, campaign_id FROM touchpoints WHERE campaign_id IS NOT NULL
        EXCEPT SELECT channel, campaign_id FROM marketing_spend
    """).fetchall()
    assert foreign == []
    assert scalar(con, "SELECT count(DISTINCT channel) FROM touchpoints") == 7


# --- realism --------------------------------------------------------------------------------------


def test_double_11_is_several_times_an_ordinary_day(double_11_shop):
    con = connect(double_11_shop)
    per_day = dict(con.execute("SELECT ordered_at::DATE, count(*) FROM orders GROUP BY 1").fetchall())
    ordinary = sorted(per_day.values())[len(per_day) // 2]
    assert per_day[date(2025, 11, 11)] >= 3 * ordinary
    assert max(per_day, key=per_day.get) == date(2025, 11, 11)


def test_cancelled_and_returned_orders_are_a_small_share(long_shop):
    con = connect(long_shop, tables=("orders", "reviews"))
    orders = scalar(con, "SELECT count(*) FROM orders")
    assert orders > 500
    cancelled = scalar(con, "SELECT count(*) FROM orders WHERE status = 'cancelled'") / orders
    returned = scalar(con, "SELECT count(*) FROM orders WHERE status = 'returned'") / orders
    empty = scalar(con, "SELECT count(*) FROM orders WHERE status IS NULL") / orders
    assert 0.02 <= cancelled <= 0.07
    assert 0.01 <= returned <= 0.06
    assert empty >= 0.4
    assert scalar(con, "SELECT count(DISTINCT payment_method) FROM orders") == 6


def test_repeat_purchases_decay_month_after_month(long_shop):
    """Share of customers ordering in month k after their first order, among those observed that long."""
    con = connect(long_shop, tables=("orders", "reviews"))
    shares = [
        row[1]
        for row in con.execute("""
        WITH placed AS (SELECT customer_id, ordered_at::TIMESTAMP AS placed_at FROM orders),
        firsts AS (SELECT customer_id, min(placed_at) AS first_at FROM placed GROUP BY 1),
        months AS (SELECT unnest([1, 2, 3, 4, 5]) AS k),
        observed AS (
            SELECT k, firsts.* FROM months, firsts
            WHERE first_at + to_days(30 * (k + 1)) <= (SELECT max(placed_at) FROM placed)
        )
        SELECT k, count(DISTINCT p.customer_id) / count(DISTINCT o.customer_id)
        FROM observed o
        LEFT JOIN placed p ON p.customer_id = o.customer_id
             AND p.placed_at >= o.first_at + to_days(30 * k)
             AND p.placed_at < o.first_at + to_days(30 * (k + 1))
        GROUP BY k ORDER BY k
    """).fetchall()
    ]
    assert 0.08 <= shares[0] <= 0.4
    assert shares[0] == max(shares)
    assert (shares[0] + shares[1]) / 2 > (shares[2] + shares[3]) / 2
    assert (shares[3] + shares[4]) / 2 < 0.8 * shares[0]


def test_reviews_are_mostly_positive(long_shop):
    con = connect(long_shop, tables=("orders", "reviews"))
    assert 3.8 <= scalar(con, "SELECT avg(rating::INT) FROM reviews") <= 4.6
    assert scalar(con, "SELECT count(*) FROM reviews WHERE regexp_matches(review_text, '[一-龥]')") > 0
    assert scalar(con, "SELECT count(*) FROM reviews WHERE regexp_matches(review_text, '^[A-Za-z]')") > 0


# --- layout, formats and the summary --------------------------------------------------------------


def test_one_file_per_day_with_rows_in_its_partition(shop):
    con = connect(shop)
    order_days = {
        d.isoformat() for (d,) in con.execute("SELECT DISTINCT ordered_at::DATE FROM orders").fetchall()
    }
    files = sorted((shop / "orders").rglob("*.csv"))
    assert {p.parent.name for p in files} == {f"dt={d}" for d in order_days}
    assert len(files) == len(order_days)
    for path in files:
        day = path.parent.name.removeprefix("dt=")
        assert path.name == f"orders_{day.replace('-', '')}.csv"
        rows = duckdb.sql(
            f"SELECT DISTINCT ordered_at[:10] FROM read_csv('{path}', all_varchar = true)"
        ).fetchall()
        assert rows == [(day,)], path
    signup_days = {
        d.isoformat() for (d,) in con.execute("SELECT DISTINCT signup_at::DATE FROM customers").fetchall()
    }
    assert {p.parent.name for p in (shop / "customers").rglob("*.csv")} == {f"dt={d}" for d in signup_days}
    assert [p.relative_to(shop).as_posix() for p in (shop / "products").rglob("*") if p.is_file()] == [
        "products/dt=2026-06-30/products_20260630.csv",
    ]


def test_parquet_holds_the_same_rows_as_csv(shop, parquet_shop):
    csv_con, parquet_con = connect(shop), connect(parquet_shop, "parquet")
    for table in CONTRACT.tables:
        from_csv = csv_con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        assert parquet_con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == from_csv, table


def test_summary_counts_what_was_written(tmp_path):
    summary = generate_shop(tmp_path, customers=30, days=10, seed=1, end_date=date(2026, 1, 10))
    con = connect(tmp_path)
    for table in CONTRACT.tables:
        assert summary.rows[table] == scalar(con, f"SELECT count(*) FROM {table}"), table
        assert summary.files[table] == len(list((tmp_path / table).rglob("*.csv"))), table
    text = summary.describe()
    assert "2026-01-01 to 2026-01-10" in text
    assert re.search(rf"\n  orders +{summary.files['orders']} +{summary.rows['orders']}\n", text)


def test_progress_is_reported_on_stderr(tmp_path, capfd):
    generate_shop(tmp_path, customers=20, days=3, seed=1)
    err = capfd.readouterr().err
    assert "generate: 2026-06-30 (3/3 days, 100%)" in err


def test_refuses_a_landing_folder_that_already_holds_a_shop(shop):
    with pytest.raises(FileExistsError, match="already holds files"):
        generate_shop(shop, **SMALL)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"customers": 0, "days": 5, "seed": 1}, "customers"),
        ({"customers": 5, "days": 0, "seed": 1}, "days"),
        ({"customers": 5, "days": 5, "seed": -1}, "seed"),
        ({"customers": 5, "days": 5, "seed": 1, "fmt": "xlsx"}, "xlsx"),
    ],
)
def test_rejects_bad_arguments(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        generate_shop(tmp_path, **arguments)
    assert not any(tmp_path.iterdir())
