"""publish to PostgreSQL (ECOM_SERVING_URL): the serving file's marts and publish log, swapped in atomically.

Against a real PostgreSQL server started for the session (tests/postgres_server.py), each test on a
database of its own.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest

import fake_marts
from ecom import publish as publish_module
from ecom import publish_postgres
from ecom.config import PROJECT_ROOT, Settings
from ecom.publish import publish
from ecom.publish_postgres import ServingBusyError, UnsupportedTypeError
from fake_marts import in_warehouse, leftovers, sha256

AS_OF = date(2024, 3, 31)
PASSWORD = "s3cret-never-logged"
BI_READER_SCRIPT = PROJECT_ROOT / "docker" / "serving-postgres" / "10-bi-reader.sh"


@pytest.fixture
def settings(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> Settings:
    # The server trusts loopback, so the password is not checked; it must only never be shown.
    url = postgres_url.replace("ecom@", f"ecom:{PASSWORD}@")
    return dataclasses.replace(fake_marts.seed(settings, tmp_path, monkeypatch), serving_url=url)


def pg(settings: Settings, query: str, params: list | None = None) -> list[tuple]:
    with psycopg.connect(settings.serving_url, autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def pg_state(settings: Settings) -> dict[str, object]:
    """Everything a BI session could see: schemas, columns and types, rows, comments, constraints."""
    schemas = [name for (name,) in pg(settings, "SELECT nspname FROM pg_namespace "
                                                "WHERE nspname !~ '^(pg_|information_schema)' ORDER BY 1")]
    tables = pg(settings, "SELECT table_schema, table_name FROM information_schema.tables "
                          "WHERE table_schema IN ('marts', 'meta') ORDER BY 1, 2")
    state: dict[str, object] = {"schemas": schemas}
    for schema, table in tables:
        relation = f'"{schema}"."{table}"'
        state[relation] = {
            "columns": pg(settings, "SELECT attname, format_type(atttypid, atttypmod), attnotnull, "
                                    "col_description(attrelid, attnum) FROM pg_attribute "
                                    "WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum",
                          [relation]),
            "comment": pg(settings, "SELECT obj_description(%s::regclass, 'pg_class')", [relation]),
            "constraints": pg(settings, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                        "WHERE conrelid = %s::regclass ORDER BY 1", [relation]),
            "rows": sorted(pg(settings, f"SELECT * FROM {relation}"), key=repr),
        }
    return state


def test_publish_loads_marts_and_publish_log_with_types_keys_and_comments(settings: Settings) -> None:
    result = publish(settings, "run-1", AS_OF)

    state = pg_state(settings)
    assert state["schemas"] == ["marts", "meta", "public"]
    assert set(state) == {"schemas", '"marts"."channel_attribution"', '"marts"."cohort_retention"',
                          '"marts"."customer_portrait"', '"meta"."publish_log"'}
    portrait = state['"marts"."customer_portrait"']
    assert portrait["columns"] == [
        ("customer_id", "text", True, "The customer."),
        ("order_count", "bigint", True, "Orders by A."),
        ("revenue", "numeric(18,2)", False, "What they spent, in CNY."),
        ("first_order_date", "date", False, "Day of the first order."),
        ("channels", "text[]", False, "Channels that touched them."),
    ]
    assert portrait["comment"] == [("One row per customer.",)]
    assert portrait["constraints"] == [("PRIMARY KEY (customer_id)",)]
    assert portrait["rows"] == [
        ("00017", 2, Decimal("120.50"), date(2024, 1, 5), ["search", "social"]),
        ("c2", 1, Decimal("0.00"), date(2024, 2, 11), ["direct"]),
        ("c3", 3, None, None, []),
    ]
    cohorts = state['"marts"."cohort_retention"']
    assert cohorts["columns"][3][:3] == ("retention_rate", "double precision", False)
    assert cohorts["rows"] == [
        (date(2024, 1, 1), 0, 4, 1.0), (date(2024, 1, 1), 1, 2, 0.5), (date(2024, 2, 1), 0, 5, 1.0)]
    assert state['"marts"."channel_attribution"']["rows"] == []
    log = state['"meta"."publish_log"']
    assert [column[:3] for column in log["columns"]] == [
        ("run_id", "text", True), ("as_of", "date", True),
        ("published_at", "timestamp without time zone", True),
        ("mart", "text", True), ("row_count", "bigint", True), ("note", "text", False)]
    assert all(column[3] for column in log["columns"])
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        assert log["rows"] == sorted(con.execute("SELECT * FROM meta.publish_log").fetchall(), key=repr)
    assert len(log["rows"]) == 3
    assert result.postgres is not None and result.postgres.seconds > 0
    described = result.describe()
    port = settings.serving_url.rsplit(":", 1)[1].split("/")[0]
    assert f"and to postgresql://127.0.0.1:{port}/{Path(settings.serving_url).name}, schemas" in described
    assert PASSWORD not in described and PASSWORD not in repr(settings) and "ecom:" not in described
    assert leftovers(settings) == [] and not list(settings.warehouse_dir.glob("postgres_load.*"))


def test_every_value_arrives_as_it_is_in_duckdb(settings: Settings) -> None:
    in_warehouse(settings, r"""
        CREATE TABLE marts.zz_values AS SELECT * FROM (VALUES
            (1, '', 'a"b,c' || chr(10) || 'd\e', '城市', 'NAN'::DOUBLE, TRUE,
             TIMESTAMP '2024-01-02 03:04:05.678901', ['x', NULL, 'q"u\o,te', ''], [1.5, NULL]::DOUBLE[],
             'NULL'),
            (2, NULL, NULL, NULL, 'inf'::DOUBLE, NULL, NULL, NULL, NULL, NULL),
            (3, ' ', '\N', 'x', 0.1::DOUBLE + 0.2, FALSE, TIMESTAMP '1970-01-01', [], [], '"')
        ) AS v(id, empty, tricky, unicode, number, flag, stamp, tags, scores, literal_null)
    """)

    publish(settings, "run-1", AS_OF)

    got = pg(settings, "SELECT * FROM marts.zz_values ORDER BY id")
    assert got[0][1:4] == ("", 'a"b,c\nd\\e', "城市") and math.isnan(got[0][4])
    assert got[0][5:] == (True, datetime(2024, 1, 2, 3, 4, 5, 678901), ["x", None, 'q"u\\o,te', ""],
                          [1.5, None], "NULL")
    assert got[1] == (2, None, None, None, math.inf, None, None, None, None, None)
    assert got[2] == (3, " ", "\\N", "x", 0.1 + 0.2, False, datetime(1970, 1, 1), [], [], '"')


READ_ALL = ("SELECT (SELECT count(*) FROM marts.cohort_retention), "
            "(SELECT count(*) FROM marts.customer_portrait), (SELECT max(run_id) FROM meta.publish_log)")


def test_a_reader_polling_during_publish_sees_the_old_marts_or_the_new_never_a_mix(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(settings, "run-1", AS_OF)
    in_warehouse(settings, "DELETE FROM marts.cohort_retention WHERE period_index = 1; "
                           "DELETE FROM marts.customer_portrait WHERE customer_id = 'c3'")
    swap = publish_postgres._swap

    def slow_swap(conn: psycopg.Connection, schema: str) -> None:  # widen the window between the schemas
        swap(conn, schema)
        time.sleep(0.3)

    monkeypatch.setattr(publish_postgres, "_swap", slow_swap)
    seen: list[object] = []
    stop = threading.Event()

    def poll() -> None:
        with psycopg.connect(settings.serving_url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.append(conn.execute(READ_ALL).fetchall()[0])
                except psycopg.Error as error:
                    seen.append(error)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        while not seen:
            time.sleep(0.01)
        publish(settings, "run-2", AS_OF)
        time.sleep(0.1)
    finally:
        stop.set()
        reader.join()

    old, new = (3, 3, "run-1"), (2, 2, "run-2")
    assert set(seen) == {old, new}, [s for s in seen if s not in (old, new)][:3]
    assert seen.index(new) > seen.index(old) and old not in seen[seen.index(new):]


def test_an_open_reader_transaction_keeps_the_old_marts_and_publish_waits_for_it(settings: Settings) -> None:
    publish(settings, "run-1", AS_OF)
    in_warehouse(settings, "DELETE FROM marts.customer_portrait WHERE customer_id = 'c3'")
    with psycopg.connect(settings.serving_url) as session:  # a BI session in a transaction
        assert session.execute(READ_ALL).fetchall() == [(3, 3, "run-1")]
        publishing = threading.Thread(target=publish, args=(settings, "run-2", AS_OF))
        publishing.start()
        assert wait_for(lambda: pg(settings, "SELECT count(*) FROM pg_locks WHERE NOT granted")[0][0] > 0)
        assert publishing.is_alive()  # waiting for the session's locks
        assert session.execute(READ_ALL).fetchall() == [(3, 3, "run-1")]
        session.commit()
        publishing.join(timeout=30)
    assert not publishing.is_alive()
    assert pg(settings, READ_ALL) == [(3, 2, "run-2")]


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def value_postgres_refuses(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> type[BaseException]:
    in_warehouse(settings, "CREATE VIEW marts.zz_nul AS SELECT 'a' || chr(0) || 'b' AS text_with_nul")
    return psycopg.errors.DataError


def type_postgres_lacks(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> type[BaseException]:
    in_warehouse(settings, "CREATE VIEW marts.zz_struct AS SELECT {'a': 1} AS pair")
    return UnsupportedTypeError


def rename_fails_after_the_swap(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> type[BaseException]:
    def broken_rename(temp: Path, serving: Path) -> None:
        raise OSError(f"cannot rename {temp}")

    monkeypatch.setattr(publish_module, "_rename_into_place", broken_rename)
    return OSError


def readers_hold_the_marts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> type[BaseException]:
    monkeypatch.setattr(publish_postgres, "LOCK_PATIENCE_SECONDS", 0.5)
    session = stack.enter_context(psycopg.connect(settings.serving_url))
    session.execute("SELECT count(*) FROM marts.channel_attribution")  # and the transaction left open
    return ServingBusyError


@pytest.mark.parametrize("failure", [value_postgres_refuses, type_postgres_lacks, rename_fails_after_the_swap,
                                     readers_hold_the_marts])
def test_a_failed_publish_leaves_postgres_and_the_serving_file_as_they_were(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, failure
) -> None:
    publish(settings, "run-1", AS_OF)
    before, served = pg_state(settings), sha256(settings.serving_db)
    in_warehouse(settings, "DELETE FROM marts.customer_portrait WHERE customer_id = 'c3'")
    with ExitStack() as stack:
        expected_error = failure(settings, monkeypatch, stack)
        with pytest.raises(expected_error):
            publish(settings, "run-2", AS_OF)

    assert pg_state(settings) == before
    assert sha256(settings.serving_db) == served
    assert leftovers(settings) == [] and not list(settings.warehouse_dir.glob("postgres_load.*"))


def test_the_bi_role_of_the_docker_serving_database_reads_after_every_publish(
    settings: Settings, postgres_url: str
) -> None:
    """docker/serving-postgres/ creates the read-only role bi; its grants must survive the swaps."""
    database = Path(postgres_url).name
    port = postgres_url.rsplit(":", 1)[1].split("/")[0]
    environment = {**os.environ, "POSTGRES_USER": "ecom", "POSTGRES_DB": database, "SERVING_BI_PASSWORD": "x",
                   "PGHOST": "127.0.0.1", "PGPORT": port}
    subprocess.run(["bash", str(BI_READER_SCRIPT)], env=environment, check=True, capture_output=True)
    try:
        publish(settings, "run-1", AS_OF)
        publish(settings, "run-2", AS_OF)
        with psycopg.connect(postgres_url.replace("ecom@", "bi@"), autocommit=True) as bi:
            assert bi.execute(READ_ALL).fetchall() == [(3, 3, "run-2")]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute("DELETE FROM marts.customer_portrait")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute("CREATE TABLE public.scratch (n integer)")
    finally:
        pg(settings, "DROP OWNED BY bi")
        pg(settings, "DROP ROLE bi")
