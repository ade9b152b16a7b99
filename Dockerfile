# Airflow 3.3 with ecom-analytics: its locked dependencies (uv.lock), and the project laid out under
# AIRFLOW_HOME=/opt/airflow as the code expects it (dags/, plugins/ecom, dbt_project/, expectations/).
# docker-compose.yml bind-mounts those folders over the copies for development.
FROM apache/airflow:3.3.2-python3.11

# Install exactly what `make test` runs against (the lock, minus dev tools and the project itself), plus
# the locked `docker` group: the FAB auth manager and the Postgres driver the deployment uses.
COPY --chown=airflow:0 pyproject.toml uv.lock /tmp/ecom/
RUN pip install --no-cache-dir uv \
 && uv export --project /tmp/ecom --frozen --no-dev --group docker --no-hashes --no-emit-project \
      -o /tmp/ecom/requirements.txt \
 && pip install --no-cache-dir "apache-airflow==3.3.2" -r /tmp/ecom/requirements.txt \
 && rm -rf /tmp/ecom

COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 dbt_project /opt/airflow/dbt_project
COPY --chown=airflow:0 expectations /opt/airflow/expectations

# The DAG is rendered from dbt's manifest (cosmos manifest load mode), so the image carries one built
# from the dbt project it ships; airflow-init rebuilds it when the bind-mounted project changes.
RUN PYTHONPATH=/opt/airflow/plugins ECOM_WAREHOUSE_DIR=/tmp/ecom-build python -m ecom.dbt_manifest \
 && rm -rf /tmp/ecom-build

# `ecom` is imported from its source folder: ecom.config finds dags/, dbt_project/ and expectations/ from there.
ENV PYTHONPATH=/opt/airflow/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False
