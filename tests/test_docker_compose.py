"""docker-compose.yml, checked as a file (no Docker engine here): services, health, mounts, environment."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

from ecom.config import PROJECT_ROOT, Settings
from ecom.orchestrate import airflow_environment

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = ["airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer"]
LONG_RUNNING = {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer"}


def mounts(service: str) -> dict[str, str]:
    """Container path → host source of each volume of `service`."""
    pairs = (volume.rsplit(":", 1) for volume in SERVICES[service]["volumes"])
    return {target: source for source, target in pairs}


def test_services() -> None:
    assert set(SERVICES) == {"postgres", "serving-postgres", "airflow-volumes", *AIRFLOW_SERVICES}
    for service, command in LONG_RUNNING.items():
        assert SERVICES[service]["command"] == command
        assert "healthcheck" in SERVICES[service], service


def test_postgres_is_the_metadata_db_and_is_health_checked() -> None:
    postgres = SERVICES["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    for service in AIRFLOW_SERVICES:
        env = SERVICES[service]["environment"]
        assert re.fullmatch(r"postgresql\+psycopg2://airflow:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432/airflow",
                            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]), service
        assert SERVICES[service]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_serving_postgres_is_its_own_database_for_bi_and_publish_loads_it() -> None:
    serving = SERVICES["serving-postgres"]
    assert serving["image"].startswith("postgres:")
    assert serving["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    env = serving["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == ("ecom", "serving")
    assert serving["volumes"][0].split(":")[0] != SERVICES["postgres"]["volumes"][0].split(":")[0]
    assert "./docker/serving-postgres:/docker-entrypoint-initdb.d:ro" in serving["volumes"]
    assert serving["ports"] == ["${SERVING_POSTGRES_PORT:-5433}:5432"]
    for service in AIRFLOW_SERVICES:
        url = SERVICES[service]["environment"]["ECOM_SERVING_URL"]
        assert re.fullmatch(r"postgresql://ecom:\$\{SERVING_POSTGRES_PASSWORD:\?[^}]*\}@serving-postgres:5432/serving",
                            url), service
        assert SERVICES[service]["depends_on"]["serving-postgres"] == {"condition": "service_healthy"}


def test_openlineage_events_go_to_a_file_under_the_warehouse() -> None:
    for service in AIRFLOW_SERVICES:
        env = SERVICES[service]["environment"]
        transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
        events = "/data/warehouse/lineage/events.jsonl"
        assert transport == {"type": "file", "log_file_path": events, "append": True}
        assert PurePosixPath(events).parent.parent == PurePosixPath(env["ECOM_WAREHOUSE_DIR"])


def test_components_wait_for_init() -> None:
    for service in LONG_RUNNING:
        init = SERVICES[service]["depends_on"]["airflow-init"]
        assert init == {"condition": "service_completed_successfully"}, service


def test_init_migrates_creates_admin_and_pool_and_refreshes_the_manifest() -> None:
    script = SERVICES["airflow-init"]["command"][-1]
    steps = ["airflow db migrate", "airflow users create", "--role Admin",
             'airflow pools set warehouse_writer 1 ', "python -m ecom.dbt_manifest"]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "set -euo pipefail" in script


def test_data_folders_exist_and_belong_to_the_airflow_user_before_init() -> None:
    volumes = SERVICES["airflow-volumes"]
    assert volumes["user"] == "0:0"
    script = volumes["command"][-1]
    written = ["/data/landing", "/data/warehouse", "/opt/airflow/dbt_project/target"]
    paths = " ".join(written)
    created = "/data/landing /data/warehouse /data/warehouse/lineage /opt/airflow/dbt_project/target"
    assert f"mkdir -p {created}" in script
    assert 'chown -R "${AIRFLOW_UID:-50000}:0" ' + paths in script
    assert set(written[:2]) <= set(mounts("airflow-volumes"))
    assert SERVICES["airflow-init"]["depends_on"]["airflow-volumes"] == {
        "condition": "service_completed_successfully"}
    for service in AIRFLOW_SERVICES:
        assert SERVICES[service].get("user") == "${AIRFLOW_UID:-50000}:0", service


def test_image_installs_the_locked_providers_the_deployment_relies_on() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--group docker" in dockerfile
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked = {package["name"] for package in lock["package"]}
    env = SERVICES["airflow-init"]["environment"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].startswith("airflow.providers.fab.")
    assert "postgresql+psycopg2://" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert {"apache-airflow-providers-fab", "apache-airflow-providers-postgres", "psycopg2-binary"} <= locked


def test_image_carries_a_dbt_manifest_and_no_local_state() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = dockerfile.index("COPY --chown=airflow:0 dbt_project")
    assert copied < dockerfile.index("python -m ecom.dbt_manifest")
    ignored = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "data", "warehouse", "dbt_project/target", ".git"} <= set(ignored)


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_airflow_environment(service: str) -> None:
    env = SERVICES[service]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["ECOM_LANDING_DIR"] == "/data/landing"
    assert env["ECOM_WAREHOUSE_DIR"] == "/data/warehouse"
    assert env["ECOM_BUSINESS_TZ"] == "${ECOM_BUSINESS_TZ:-Asia/Shanghai}"
    assert env["ECOM_ALERT_WEBHOOK_URL"] == "${ECOM_ALERT_WEBHOOK_URL:-}"
    assert env["PYTHONPATH"] == "/opt/airflow/plugins"
    # cosmos runs as under `ecom run` (its cache folder aside, which is under the warehouse there).
    ecom_run = airflow_environment(Settings(landing_dir=Path("/l"), warehouse_dir=Path("/w")), {})
    cosmos = {key: value for key, value in ecom_run.items()
              if key.startswith("AIRFLOW__COSMOS__") and key != "AIRFLOW__COSMOS__CACHE_DIR"}
    assert {key: env.get(key) for key in cosmos} == cosmos
    # Every component signs or checks the task JWTs: they must share one secret.
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_project_and_data_mounts(service: str) -> None:
    volumes = mounts(service)
    env = SERVICES[service]["environment"]
    for folder in ["dags", "plugins", "dbt_project", "expectations"]:
        assert volumes[f"/opt/airflow/{folder}"] == f"./{folder}"
        assert (PROJECT_ROOT / folder).is_dir()
    # ecom.config finds dags/, dbt_project/ and expectations/ next to the folder holding plugins/ecom.
    assert PurePosixPath(env["PYTHONPATH"]).parent == PurePosixPath("/opt/airflow")
    assert volumes[env["ECOM_LANDING_DIR"]] == "${ECOM_LANDING_HOST_DIR:-./data/landing}"
    assert volumes[env["ECOM_WAREHOUSE_DIR"]] == "${ECOM_WAREHOUSE_HOST_DIR:-./warehouse}"


def test_image_is_airflow_3_3_with_the_project() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", dockerfile, re.MULTILINE)
    assert "uv export" in dockerfile and "--frozen" in dockerfile
    for service in AIRFLOW_SERVICES:
        assert SERVICES[service]["build"] == {"context": ".", "dockerfile": "Dockerfile"}


def test_env_example_defines_every_required_variable() -> None:
    text = (PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    defaults = set(re.findall(r"\$\{(\w+):-", text))
    example = (PROJECT_ROOT / "docker" / ".env.example").read_text(encoding="utf-8")
    defined = set(re.findall(r"^(\w+)=", example, re.MULTILINE))

    secrets = {"POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD",
               "SERVING_POSTGRES_PASSWORD", "SERVING_BI_PASSWORD"}
    assert required == secrets
    assert required | defaults <= defined
