"""What Superset does with a new database and dataset, through SQLAlchemy: run in the client venv.

python superset_inspect.py URL SCHEMA prints JSON: the schema names, and for each table of SCHEMA its
comment, columns (name, type, comment), primary key and the rows of a sample query.
"""

import json
import sys
import warnings

import sqlalchemy

url, schema = sys.argv[1], sys.argv[2]
warnings.simplefilter("ignore")  # duckdb-engine warns that it reflects no indexes
engine = sqlalchemy.create_engine(url)
inspector = sqlalchemy.inspect(engine)
tables = {}
with engine.connect() as connection:
    for table in inspector.get_table_names(schema=schema):
        inspector.get_foreign_keys(table, schema=schema)
        inspector.get_indexes(table, schema=schema)
        query = sqlalchemy.text(f'SELECT * FROM "{schema}"."{table}" LIMIT 100')
        sample = connection.execute(query).fetchall()
        tables[table] = {
            "comment": inspector.get_table_comment(table, schema=schema)["text"],
            "columns": [[c["name"], str(c["type"]), c.get("comment")]
                        for c in inspector.get_columns(table, schema=schema)],
            "primary_key": inspector.get_pk_constraint(table, schema=schema)["constrained_columns"],
            "sample_rows": len(sample),
        }
print(json.dumps({"sqlalchemy": sqlalchemy.__version__, "schemas": inspector.get_schema_names(),
                  "tables": tables}))
