"""``gbrec demo``: materialise the asset graph, then serve the API, the Dagster UI and
the MLflow UI (``mlflow server`` on the same tracking store and artifact root).

The demo is a small process supervisor: every long-running part is a child process
in its own process group, so Ctrl-C (or SIGTERM) stops everything it started. A
second run reuses the data, the registered champion and the admin key file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.panel import Panel

from gbrec_core.errors import GbrecError
from gbrec_core.layout import dagster_home
from gbrec_core.settings import Settings

console = Console()
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Supervisor:
    """Starts children in their own process groups and stops them all on exit."""

    env: dict[str, str]
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, args: list[str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        handle = log.open("ab")
        proc = subprocess.Popen(
            args, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children.append((name, proc))

    def stop(self) -> None:
        for _, proc in self.children:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc in self.children:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def failed(self) -> str | None:
        for name, proc in self.children:
            if proc.poll() is not None:
                return f"{name} exited with code {proc.returncode}"
        return None


def gbrec_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from gbrec_core.cli import main; main()", *args]


def child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    env["GBREC_HOME"] = str(settings.resolved_home)
    env["DAGSTER_HOME"] = str(dagster_home(settings))
    return env


def has_champion(settings: Settings) -> bool:
    from gbrec_core.registry import ModelRegistry

    try:
        return ModelRegistry(settings).champion() is not None
    except GbrecError:
        return False


def admin_key(settings: Settings, env: dict[str, str]) -> str:
    """Create the demo's admin key once; later runs reuse the saved key."""
    saved = settings.resolved_home / "demo-admin-key.json"
    if saved.is_file():
        return str(json.loads(saved.read_text())["key"])
    out = subprocess.run(
        gbrec_command("keys", "create", "--scope", "admin", "--json"),
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    line = out.stdout.strip().splitlines()[-1]
    saved.write_text(line)
    saved.chmod(0o600)
    return str(json.loads(line)["key"])


def wait_for(url: str, supervisor: Supervisor, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        failure = supervisor.failed()
        if failure:
            raise RuntimeError(failure)
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise RuntimeError(f"{url} did not become ready within {timeout:.0f} s")


EXAMPLE_QUERIES = {
    "recommendations": "{ recommendations(userId: 42, limit: 5) "
    "{ modelVersion fallback items { rank score book { title authors } } } }",
    # Personalisation vs popularity: `gbrec materialize` registers both aliases.
    "create an experiment (admin)": "mutation { createExperiment(input: "
    '{id: "champion-vs-baseline", strategy: WEIGHTED, metrics: ["ctr", "satisfaction"], '
    'variants: [{name: "control", model: "champion", weight: 0.5}, '
    '{name: "treatment", model: "baseline", weight: 0.5}]}) '
    "{ id status variants { name model weight } } }",
    "deploy a model version (admin)": 'mutation { deployModel(version: "1") '
    "{ version previousVersion at } }",
}


def examples(api: str, key: str) -> str:
    """Three copy-paste curl commands against the running API."""
    blocks = []
    for title, query in EXAMPLE_QUERIES.items():
        auth = f" -H 'X-API-Key: {key}'" if "admin" in title else ""
        body = json.dumps({"query": query})
        blocks.append(
            f"# {title}\ncurl -s {api}/graphql -H 'Content-Type: application/json'{auth} "
            f"-d '{body}'"
        )
    return "\n\n".join(blocks)


def mlflow_ui(settings: Settings, port: int) -> tuple[str, list[str] | None]:
    """The MLflow UI's URL and the command that serves it; no command when the tracking
    URI already is an MLflow server (its own UI is then the one to open)."""
    uri = settings.tracking_uri
    if uri.startswith(("http://", "https://")):
        return uri.rstrip("/"), None
    command = [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--backend-store-uri",
        uri,
        "--default-artifact-root",
        settings.artifact_root,
        # The UI reads the runs' own artifact locations; nothing is proxied or uploaded.
        "--no-serve-artifacts",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    return f"http://127.0.0.1:{port}", command


def stop_embedded_redis(settings: Settings) -> None:
    """The embedded redis-server is a daemon the demo's children started; stop it too."""
    if settings.redis_url:
        return
    from gbrec_core.store import stop_server

    stop_server(settings)


@dataclass(frozen=True)
class Ports:
    api: int = 8000
    dagster: int = 3000
    mlflow: int = 5000


def write_urls(path: Path | None, urls: dict[str, str]) -> None:
    """For scripts (screenshots, tests): the URLs, written only once all of them answer."""
    if path is not None:
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(urls))
        partial.replace(path)


def run_demo(
    settings: Settings, ports: Ports, materialize: bool, urls_file: Path | None = None
) -> None:
    settings.ensure_home()
    env = child_env(settings)
    logs = settings.resolved_home / "logs"
    if materialize or not has_champion(settings):
        console.print(
            "[bold]Materialising the asset graph[/] (data -> models -> registry -> index)"
        )
        subprocess.run(gbrec_command("materialize"), env=env, check=True)
    else:
        console.print("Reusing the registered champion (run `gbrec materialize` to retrain).")
    key = admin_key(settings, env)
    supervisor = Supervisor(env)
    try:
        supervisor.start(
            "dagster",
            [
                str(Path(sys.executable).parent / "dagster"),
                "dev",
                "-w",
                str(REPO_ROOT / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(ports.dagster),
            ],
            logs / "dagster.log",
        )
        supervisor.start(
            "api",
            gbrec_command("serve", "--host", "127.0.0.1", "--port", str(ports.api)),
            logs / "api.log",
        )
        mlflow, mlflow_server = mlflow_ui(settings, ports.mlflow)
        if mlflow_server is not None:
            supervisor.start("mlflow", mlflow_server, logs / "mlflow.log")
        api, dagster = f"http://127.0.0.1:{ports.api}", f"http://127.0.0.1:{ports.dagster}"
        wait_for(f"{api}/readyz", supervisor, timeout=300)
        wait_for(f"{dagster}/server_info", supervisor, timeout=300)
        wait_for(f"{mlflow}/health", supervisor, timeout=300)
        write_urls(urls_file, {"api": api, "dagster": dagster, "mlflow": mlflow})
        console.print(
            Panel.fit(
                f"GraphQL API  : {api}/graphql\nA/B dashboard: {api}/dashboard\n"
                f"Dagster UI   : {dagster}\nMLflow UI    : {mlflow}\n"
                f"Metrics      : {api}/metrics\nAdmin key    : {key}\nLogs         : {logs}",
                title="gbrec is up (Ctrl-C stops everything)",
            )
        )
        # soft_wrap: long curl lines must stay copy-pasteable, not be broken by rich.
        console.print(examples(api, key), highlight=False, soft_wrap=True, markup=False)
        while (failure := supervisor.failed()) is None:
            time.sleep(1.0)
        raise RuntimeError(failure)
    except KeyboardInterrupt:
        console.print("\nStopping ...")
    finally:
        supervisor.stop()
        stop_embedded_redis(settings)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def demo(
    api_port: int = typer.Option(8000, help="GraphQL API port."),
    dagster_port: int = typer.Option(3000, help="Dagster UI port."),
    mlflow_port: int = typer.Option(5000, help="MLflow UI port."),
    urls_file: Path | None = typer.Option(
        None, help="Write the API, Dagster and MLflow URLs as JSON here once all answer."
    ),
    materialize: bool = typer.Option(
        False, "--materialize", help="Retrain even if a champion exists."
    ),
) -> None:
    """Materialise everything, then serve the GraphQL API, the Dagster UI and the MLflow UI."""
    signal.signal(signal.SIGTERM, _interrupt)
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # before mlflow is imported
    try:
        ports = Ports(api_port, dagster_port, mlflow_port)
        run_demo(Settings(), ports, materialize, urls_file)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        console.print(f"[red]demo failed:[/] {e}")
        raise typer.Exit(1) from e
