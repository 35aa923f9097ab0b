"""A throwaway three-master Redis Cluster of the ``redis-server`` on PATH (Debian's, say):
three processes on free loopback ports, each with AOF in a folder of its own, joined by
``redis-cli --cluster create``. ``scripts/production/lib.sh`` starts the production
profile's cluster the same way, in bash (with ``appendfsync everysec`` as in production;
here every write is fsynced, so a test can kill a node right after writing)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_S = 20.0
NODES = 3


def missing_binaries() -> str | None:
    """Why no cluster can be started here, or None."""
    absent = [b for b in ("redis-server", "redis-cli") if shutil.which(b) is None]
    return f"{' and '.join(absent)} not on PATH" if absent else None


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports whose cluster bus ports (+10000) are free too."""
    ports: list[int] = []
    while len(ports) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port < 55000 and port not in ports and _free(port + 10000):
            ports.append(port)
    return ports


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class LocalCluster:
    """``tls``: (certificate, key) of a self-signed certificate that is its own CA: the
    nodes then listen, and talk to each other, over TLS only. ``password``: requirepass."""

    folder: Path
    tls: tuple[Path, Path] | None = None
    password: str | None = None
    ports: list[int] = field(default_factory=list)
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        scheme = "rediss+cluster" if self.tls else "redis+cluster"
        auth = f":{self.password}@" if self.password else ""
        nodes = ",".join(f"127.0.0.1:{p}" for p in self.ports)
        options = f"?ssl_ca_certs={self.tls[0]}" if self.tls else ""
        return f"{scheme}://{auth}{nodes}{options}"

    def _server_options(self, port: int) -> list[str]:
        listen = ["--port", str(port)]
        if self.tls:
            cert, key = map(str, self.tls)
            listen = ["--port", "0", "--tls-port", str(port), "--tls-cluster", "yes",
                      "--tls-cert-file", cert, "--tls-key-file", key,
                      "--tls-ca-cert-file", cert, "--tls-auth-clients", "no"]  # fmt: skip
        if self.password:
            listen += ["--requirepass", self.password, "--masterauth", self.password]
        return listen

    def _cli(self, *args: str) -> list[str]:
        tls = ["--tls", "--cacert", str(self.tls[0])] if self.tls else []
        auth = ["-a", self.password, "--no-auth-warning"] if self.password else []
        return ["redis-cli", *tls, *auth, *args]

    def start(self) -> LocalCluster:
        self.ports = free_ports(NODES)
        for port in self.ports:
            self.start_node(port)
        nodes = [f"127.0.0.1:{p}" for p in self.ports]
        subprocess.run(
            self._cli("--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60,
        )  # fmt: skip
        self.wait_ok()
        return self

    def start_node(self, port: int) -> None:
        """Start (or restart: same folder, nodes.conf and AOF) the node on ``port``."""
        folder = self.folder / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        self.procs[port] = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", *self._server_options(port),
             "--dir", str(folder), "--cluster-enabled", "yes",
             "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", "2000", "--appendonly", "yes",
             "--appendfsync", "always", "--save", "",
             "--logfile", "redis.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while _free(port):
            assert self.procs[port].poll() is None, f"redis-server on {port} exited"
            assert time.monotonic() < deadline, f"redis-server on {port} did not listen"
            time.sleep(0.05)

    def wait_ok(self) -> None:
        """Until every node reports ``cluster_state:ok``."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(self._state_ok(p) for p in self.ports):
            assert time.monotonic() < deadline, "the cluster did not reach cluster_state:ok"
            time.sleep(0.1)

    def _state_ok(self, port: int) -> bool:
        out = subprocess.run(
            self._cli("-p", str(port), "cluster", "info"),
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        return "cluster_state:ok" in out.stdout

    def kill(self, port: int) -> None:
        """SIGKILL one node (what a crash does; its AOF stays)."""
        proc = self.procs.pop(port)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            proc.wait(timeout=10)
        self.procs.clear()
