"""Real ``gbrec`` processes for the drills and the production profile.

:class:`ApiProcess` runs ``gbrec serve --port 0`` (the kernel picks a free port, read
back from uvicorn's log line, so parallel test workers never race for one), waits for
``/readyz`` within a deadline and talks GraphQL over loopback HTTP. Every wait is
bounded; a process that dies early fails the test with the tail of its log.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

GBREC = [sys.executable, "-c", "from gbrec_core.cli import main; main()"]
_RUNNING = re.compile(r"Uvicorn running on https?://127\.0\.0\.1:(\d+)")


def gbrec_env(**overrides: str) -> dict[str, str]:
    """This process's environment plus ``overrides`` (GBREC_* settings of the child)."""
    env = dict(os.environ)
    env.update(overrides)
    return env


def run_gbrec(
    args: list[str], env: Mapping[str, str], timeout: float, log: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one ``gbrec`` command to completion (bounded by ``timeout`` seconds)."""
    result = subprocess.run(
        [*GBREC, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if log is not None:
        log.write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
    return result


def create_key(env: Mapping[str, str], scope: str) -> str:
    """``gbrec keys create --scope S --json`` -> the key."""
    out = run_gbrec(["keys", "create", "--scope", scope, "--json"], env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    payload = json.loads(out.stdout.strip().splitlines()[-1])
    assert payload["scope"] == scope
    return str(payload["key"])


class GraphQLError(AssertionError):
    """The response carried errors (``codes`` holds their extensions.code values)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        self.codes = [str((e.get("extensions") or {}).get("code")) for e in errors]
        super().__init__(json.dumps(errors)[:2000])


@dataclass
class ApiProcess:
    """One ``gbrec serve`` child process on 127.0.0.1."""

    env: dict[str, str]
    log_path: Path
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    #: ``(certificate, key)``: serve HTTPS and trust only that certificate.
    tls: tuple[Path, Path] | None = None
    #: The API key sent when a call names none (production mode needs one for reads).
    read_key: str | None = None
    _client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        verify: Any = str(self.tls[0]) if self.tls else True
        self._client = httpx.Client(timeout=30.0, verify=verify)

    @property
    def url(self) -> str:
        assert self.port is not None, "process not started"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def client(self) -> httpx.Client:
        return self._client

    def start(self, timeout: float = 120.0) -> ApiProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # A restart appends to the same log: only lines after this offset name the port.
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.port = None
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    *GBREC,
                    *("serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "info"),
                    *self._tls_args(),
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(time.monotonic() + timeout, offset)
        return self

    def _tls_args(self) -> list[str]:
        if self.tls is None:
            return []
        return ["--ssl-certfile", str(self.tls[0]), "--ssl-keyfile", str(self.tls[1])]

    def _wait_ready(self, deadline: float, offset: int) -> None:
        while time.monotonic() < deadline:
            self._check_alive()
            if self.port is None:
                found = _RUNNING.findall(self.log_path.read_text(errors="replace")[offset:])
                self.port = int(found[-1]) if found else None
            if self.port is not None and self._ready():
                return
            time.sleep(0.2)
        raise AssertionError(f"gbrec serve not ready in time; log tail:\n{self.log_tail()}")

    def _ready(self) -> bool:
        try:
            return self._client.get(f"{self.url}/readyz", timeout=5.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(
                f"gbrec serve exited with {self.proc.returncode}; log tail:\n{self.log_tail()}"
            )

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "<no log>"

    def post(
        self, query: str, variables: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """The raw GraphQL response body."""
        key = key or self.read_key
        headers = {"X-API-Key": key} if key else {}
        response = self._client.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        body: dict[str, Any] = response.json()
        return body

    def gql(
        self, query: str, variables: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """``data`` of a successful response; :class:`GraphQLError` otherwise."""
        body = self.post(query, variables, key)
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown hook gets to run."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._client.close()


def wait_until(predicate: Any, timeout: float, interval: float = 0.2) -> float:
    """Seconds until ``predicate()`` was truthy; AssertionError after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout:.0f}s")
