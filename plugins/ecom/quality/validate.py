"""Run Great Expectations: one file-backed context per gate run.

Suites run either as queries in the warehouse (`validate_query`, GX's SQL execution engine through
the `duckdb+buffered` dialect of ecom.quality.gx_sql, on the database the gate holds open) or on a
pandas frame (`validate`, for small frames a gate computes itself).

The context lives under `settings.gx_dir`; its Data Docs site is `settings.data_docs_dir`. Every
validation of a gate run shares one GX run identifier (`<run_id>.<gate>`), so Data Docs can be
rebuilt for just that run's results.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import FileDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.validator.v1_validator import Validator

from ecom.config import Settings
from ecom.quality.gx_sql import connection_string
from ecom.warehouse import duckdb_config

DATA_DOCS_SITE = "local_site"
INDEXED_RESULTS_AT_MOST = 300
# Offending rows a failed expectation reports by their index columns (file and line for raw rows).
ROWS_LISTED_AT_MOST = 1000

logging.getLogger("great_expectations").setLevel(logging.WARNING)


def open_context(settings: Settings) -> FileDataContext:
    """The project's GX file context, scaffolded on first use, writing Data Docs to settings.data_docs_dir."""
    settings.gx_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", context_root_dir=settings.gx_dir)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(settings.data_docs_dir),
        },
        # The index lists the latest results only, so rebuilding it stays quick as runs accumulate.
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": INDEXED_RESULTS_AT_MOST,
        },
    }
    if DATA_DOCS_SITE in (context.variables.data_docs_sites or {}):
        context.update_data_docs_site(DATA_DOCS_SITE, site)
    else:
        context.add_data_docs_site(DATA_DOCS_SITE, site)
    return context


class GateValidator:
    """Validates frames against suites for one gate run and remembers the stored results."""

    def __init__(self, settings: Settings, gate: str, run_id: str) -> None:
        self.context = open_context(settings)
        self._gate = gate
        self._database = settings.warehouse_db
        self._database_config = duckdb_config(settings, settings.warehouse_db)
        self._datasource = self.context.data_sources.add_or_update_pandas(f"ecom_{gate}")
        self._sql_datasource: SQLDatasource | None = None
        self.run_identifier = RunIdentifier(run_name=f"{run_id}.{gate}", run_time=datetime.now(UTC))
        self._batch_definitions: dict[str, BatchDefinition] = {}
        self._query_batch_definitions: dict[str, tuple[str, BatchDefinition]] = {}

    def __enter__(self) -> GateValidator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the SQL data source's connections: the warehouse is then free for other configurations
        (dbt opens it with its own)."""
        if self._sql_datasource is not None:
            # The data source's engine and its execution engine's own.
            self._sql_datasource.get_engine().dispose()
            self._sql_datasource.get_execution_engine().engine.dispose()

    def validate_query(
        self, suite: ExpectationSuite, query: str, index_columns: list[str]
    ) -> ExpectationSuiteValidationResult:
        """Validate the rows of `query` in the warehouse; GX's metrics run there as SQL, and failures
        list offending rows (up to ROWS_LISTED_AT_MOST) by `index_columns`."""
        return self._run(suite, self._query_batch_definition(suite.name, query), None, index_columns)

    def evaluate_query(
        self, suite: ExpectationSuite, query: str, index_columns: list[str]
    ) -> ExpectationSuiteValidationResult:
        """`validate_query` without storing the result: for a result the gate completes (e.g. listings
        validated again on ordered rows) before `store` keeps it."""
        validator = Validator(
            batch_definition=self._query_batch_definition(suite.name, query),
            result_format=_result_format(index_columns),
        )
        return validator.validate_expectation_suite(suite)

    def validate(
        self, suite: ExpectationSuite, frame: pd.DataFrame, index_columns: list[str]
    ) -> ExpectationSuiteValidationResult:
        """Validate `frame`; failures list offending rows (up to ROWS_LISTED_AT_MOST) by `index_columns`."""
        return self._run(suite, self._batch_definition(suite.name), {"dataframe": frame}, index_columns)

    def _run(
        self,
        suite: ExpectationSuite,
        batch_definition: BatchDefinition,
        batch_parameters: dict[str, Any] | None,
        index_columns: list[str],
    ) -> ExpectationSuiteValidationResult:
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(
                name=suite.name, data=batch_definition, suite=self.context.suites.add_or_update(suite)
            )
        )
        return definition.run(
            batch_parameters=batch_parameters,
            result_format=_result_format(index_columns),
            run_id=self.run_identifier,
        )

    def store(
        self, suite: ExpectationSuite, result: ExpectationSuiteValidationResult
    ) -> ExpectationSuiteValidationResult:
        """Keep `result` (of `evaluate_query`) as the run's result of `suite`, where `validate` keeps its
        results (Data Docs read them there); returns it."""
        self.context.suites.add_or_update(suite)
        result.meta |= {
            "run_id": self.run_identifier,
            "validation_time": self.run_identifier.run_time,
            "batch_parameters": None,
        }
        suite_id = ExpectationSuiteIdentifier(name=suite.name)
        self.context.validation_results_store.store_validation_results(
            suite_validation_result=result,
            suite_validation_result_identifier=ValidationResultIdentifier(
                expectation_suite_identifier=suite_id,
                run_id=self.run_identifier,
                batch_identifier=result.batch_id,
            ),
            expectation_suite_identifier=suite_id,
        )
        return result

    def _batch_definition(self, name: str) -> BatchDefinition:
        """The whole-dataframe batch definition of the data asset `name`, added on first use."""
        if name not in self._batch_definitions:
            asset = self._datasource.add_dataframe_asset(name=name)
            self._batch_definitions[name] = asset.add_batch_definition_whole_dataframe("frame")
        return self._batch_definitions[name]

    def _query_batch_definition(self, name: str, query: str) -> BatchDefinition:
        """The batch definition of the query asset `name` of the warehouse's SQL data source, (re)made
        when its query changes."""
        if self._sql_datasource is None:
            self._sql_datasource = self.context.data_sources.add_or_update_sql(
                f"ecom_{self._gate}_warehouse",
                connection_string=connection_string(self._database),
                kwargs={"connect_args": {"config": self._database_config}},
            )
        known = self._query_batch_definitions.get(name)
        if known is not None and known[0] == query:
            return known[1]
        if known is not None:
            self._sql_datasource.delete_asset(name)
        asset = self._sql_datasource.add_query_asset(name=name, query=query)
        definition = asset.add_batch_definition_whole_table("rows")
        self._query_batch_definitions[name] = (query, definition)
        return definition

    def stored_result_ids(self) -> list[ValidationResultIdentifier]:
        run_name = self.run_identifier.run_name
        return [
            key
            for key in self.context.validation_results_store.list_keys()
            if key.run_id.run_name == run_name
        ]


def _result_format(index_columns: list[str]) -> dict[str, Any]:
    # SUMMARY, not COMPLETE: a file with a million bad rows must not put a million entries into the
    # stored results and Data Docs; the count of offending rows stays exact.
    return {
        "result_format": "SUMMARY",
        "unexpected_index_column_names": index_columns,
        "return_unexpected_index_query": False,
        "partial_unexpected_count": ROWS_LISTED_AT_MOST,
    }
