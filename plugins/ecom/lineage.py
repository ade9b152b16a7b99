"""OpenLineage datasets of the pipeline's Python tasks, for their inlets and outlets.

Airflow's OpenLineage provider emits a START and a COMPLETE (or FAIL) event for every task, and
cosmos adds each dbt model's inputs and outputs. The Python tasks declare theirs as lineage `Table`s
in their inlets/outlets (beside the Assets that schedule downstream DAGs), named as cosmos names the
working warehouse's relations (namespace `duckdb://<file>`, name `<file stem>.<schema>.<table>`), so
the graph runs from the raw layer through dbt to the published marts, in DuckDB and in PostgreSQL
(namespace `postgres://host:port`, name `<database>.marts.<mart>`). Where the events go is Airflow's
`[openlineage] transport` (`ecom run` defaults it to a file, `Settings.lineage_events`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from airflow.providers.common.compat.lineage.entities import Column, File, Table
from psycopg.conninfo import conninfo_to_dict

from ecom.config import Settings
from ecom.contract import load_contract
from ecom.dbt_manifest import MARTS_SCHEMA, MartDescription, mart_descriptions


@dataclass(frozen=True)
class PipelineDatasets:
    """What the Python tasks read and write: landed files -> raw_pending (ingest) -> raw (raw gate);
    the warehouse's marts (mart gate, publish) -> the published marts (publish)."""

    landed: list[File]
    pending: list[Table]
    raw: list[Table]
    warehouse_marts: list[Table]
    published_marts: list[Table]

    @classmethod
    def of(cls, settings: Settings, manifest: Path) -> PipelineDatasets:
        """The datasets of the raw contract's tables and of the marts the dbt manifest builds."""
        raw_tables = sorted(load_contract().tables)
        marts = dict(sorted(mart_descriptions(manifest).items()))
        return cls(
            landed=[File(url=(settings.landing_dir / table).as_uri()) for table in raw_tables],
            pending=[duckdb_table(settings.warehouse_db, "raw_pending", table) for table in raw_tables],
            raw=[duckdb_table(settings.warehouse_db, "raw", table) for table in raw_tables],
            warehouse_marts=[duckdb_table(settings.warehouse_db, MARTS_SCHEMA, mart, doc)
                             for mart, doc in marts.items()],
            published_marts=published_marts(settings, marts),
        )


def duckdb_table(database: Path, schema: str, name: str, description: MartDescription | None = None) -> Table:
    """A relation of a DuckDB file, named as cosmos names the working warehouse's."""
    return _table(f"duckdb://{database}", f"{database.stem}.{schema}", name, description)


def published_marts(settings: Settings, marts: Mapping[str, MartDescription]) -> list[Table]:
    """The marts publish serves: in serving.duckdb and, with ECOM_SERVING_URL, in PostgreSQL."""
    tables = [duckdb_table(settings.serving_db, MARTS_SCHEMA, mart, doc) for mart, doc in marts.items()]
    if settings.serving_url:
        info = conninfo_to_dict(settings.serving_url)
        namespace = f"postgres://{info.get('host', 'localhost')}:{info.get('port', '5432')}"
        database = f"{info.get('dbname', '')}.{MARTS_SCHEMA}"
        tables += [_table(namespace, database, mart, doc) for mart, doc in marts.items()]
    return tables


def _table(namespace: str, database: str, name: str, description: MartDescription | None) -> Table:
    if description is None:
        return Table(cluster=namespace, database=database, name=name)
    columns = [Column(name=column, description=description.columns.get(column), data_type=data_type)
               for column, data_type in description.column_types.items()]
    return Table(cluster=namespace, database=database, name=name, description=description.description or None,
                 columns=columns)
