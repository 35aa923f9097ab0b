"""Downloader against a real HTTP server on 127.0.0.1 (port 0) serving a zip built here."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gbrec_core.data import DownloadConfig, download_dataset, load_dataset, resolve_dataset
from gbrec_core.data.download import fetch
from gbrec_core.data.schema import FILES
from gbrec_core.errors import ConfigurationError, DownloadError
from gbrec_core.settings import Settings

FAST = DownloadConfig(retries=3, timeout=5.0, backoff=0.01, chunk_size=4096)


class Server:
    """Serves ``payload`` at /data.zip with Range support and injectable faults."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.drop_after: int | None = None  # close the connection after this many bytes, once
        self.honour_range = True
        self.requests: list[str | None] = []
        handler = self._handler()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/data.zip"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                server.requests.append(rng)
                if self.path != "/data.zip":
                    self.send_error(404)
                    return
                body, start = server.payload, 0
                if rng and server.honour_range:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    self.send_response(206)
                    total = len(body)
                    self.send_header("Content-Range", f"bytes {start}-{total - 1}/{total}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                chunk = body[start:]
                if server.drop_after is not None:
                    chunk, server.drop_after = chunk[: server.drop_after], None
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(chunk)

        return Handler


def _zip(tiny_dir: Path, nested: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in FILES:
            zf.write(tiny_dir / name, f"goodbooks-10k/{name}" if nested else name)
    return buf.getvalue()


@pytest.fixture
def server(tiny_dir: Path) -> Iterator[Server]:
    srv = Server(_zip(tiny_dir))
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_download_extracts_five_files(server: Server, tmp_path: Path, tiny_dir: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    sha = hashlib.sha256(server.payload).hexdigest()
    out = download_dataset(
        server.url,
        tmp_path / "gb",
        sha256=sha,
        expected_size=len(server.payload),
        progress=lambda d, t: seen.append((d, t)),
        config=FAST,
    )
    assert all((out / f).read_bytes() == (tiny_dir / f).read_bytes() for f in FILES)
    assert seen[-1] == (len(server.payload), len(server.payload))
    assert not list(out.glob("*.part")) and not list(out.glob("*.tmp"))
    assert len(load_dataset(out).ratings) > 0


def test_resumes_after_dropped_connection(server: Server, tmp_path: Path) -> None:
    server.drop_after = len(server.payload) // 3
    dest = fetch(
        server.url,
        tmp_path / "x.zip",
        sha256=hashlib.sha256(server.payload).hexdigest(),
        config=FAST,
    )
    assert dest.read_bytes() == server.payload
    assert server.requests[0] is None
    resumed_at = int(str(server.requests[1]).removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= len(server.payload) // 3  # a ranged resume, not a restart


def test_restarts_cleanly_when_range_ignored(server: Server, tmp_path: Path) -> None:
    server.drop_after = 1000
    server.honour_range = False
    dest = fetch(server.url, tmp_path / "x.zip", config=FAST)
    assert dest.read_bytes() == server.payload


def test_bad_checksum_and_size(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="sha256"):
        fetch(server.url, tmp_path / "x.zip", sha256="0" * 64, config=FAST)
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "x.zip.part").exists()
    with pytest.raises(DownloadError, match="size"):
        fetch(server.url, tmp_path / "x.zip", expected_size=5, config=FAST)


def test_http_error_and_bad_zip(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(server.url.replace("data.zip", "nope.zip"), tmp_path / "x.zip", config=FAST)
    server.payload = b"not a zip at all"
    with pytest.raises(DownloadError, match="not a valid zip"):
        download_dataset(server.url, tmp_path / "gb", config=FAST)
    assert not (tmp_path / "gb" / "goodbooks-10k.zip").exists()


def test_offline_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="offline"):
        fetch(f"http://127.0.0.1:{port}/x.zip", tmp_path / "x.zip", config=FAST)


def test_resolve_dataset(settings: Settings, server: Server, tmp_path: Path) -> None:
    folder = resolve_dataset(settings)
    assert folder == settings.data_dir / "synthetic-tiny"
    stamp = (folder / "ratings.csv").stat().st_mtime_ns
    assert resolve_dataset(settings) == folder  # reused, not regenerated
    assert (folder / "ratings.csv").stat().st_mtime_ns == stamp
    reseeded = settings.model_copy(update={"synthetic_seed": 5})
    assert resolve_dataset(reseeded) == folder
    assert (folder / "ratings.csv").stat().st_mtime_ns != stamp
    real = settings.model_copy(update={"dataset": "goodbooks-10k", "download_url": server.url})
    assert set(FILES) <= {p.name for p in resolve_dataset(real).iterdir()}
    assert resolve_dataset(settings.model_copy(update={"dataset": str(folder)})) == folder
    with pytest.raises(ConfigurationError):
        resolve_dataset(settings.model_copy(update={"dataset": str(tmp_path / "none")}))
