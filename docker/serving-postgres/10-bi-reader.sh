#!/usr/bin/env bash
# Run once by the postgres image on a new data directory: the read-only role BI tools log in as.
# Publish swaps whole schemas in (docs/bi.md), so grants on today's schema would not reach tomorrow's;
# default privileges give bi USAGE and SELECT on every schema and table the role ecom creates.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v bi_password="$SERVING_BI_PASSWORD" -v database="$POSTGRES_DB" <<'SQL'
CREATE ROLE bi LOGIN PASSWORD :'bi_password';
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO bi;
ALTER DEFAULT PRIVILEGES FOR ROLE ecom GRANT USAGE ON SCHEMAS TO bi;
ALTER DEFAULT PRIVILEGES FOR ROLE ecom GRANT SELECT ON TABLES TO bi;
SQL
