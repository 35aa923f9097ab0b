"""Failure alerts reach a local webhook receiver and a local SMTP server (loopback, port 0)."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from gbrec_assets.alerts import Alert, AlertError, send_alert
from gbrec_core.settings import Settings


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib.send_message."""

    def handle(self) -> None:
        self.wfile.write(b"220 localhost\r\n")
        data = False
        lines: list[str] = []
        while line := self.rfile.readline():
            text = line.decode().rstrip("\r\n")
            if data:
                if text == ".":
                    data = False
                    self.server.messages.append("\n".join(lines))  # type: ignore[attr-defined]
                    self.wfile.write(b"250 ok\r\n")
                else:
                    lines.append(text)
                continue
            verb = text.split(" ")[0].upper()
            if verb == "DATA":
                data = True
                self.wfile.write(b"354 go\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_webhook_alert(webhook: tuple[str, list[dict[str, object]]], tmp_path: Path) -> None:
    url, received = webhook
    settings = Settings(home=tmp_path, alert_webhook_url=url)
    sent = send_alert(settings, Alert("run failed", "step validated_ratings", run_id="r1"))
    assert sent == ["webhook"]
    assert received[0]["run_id"] == "r1" and "validated_ratings" in str(received[0]["text"])


def test_smtp_alert(tmp_path: Path) -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(
            home=tmp_path,
            alert_smtp_host="127.0.0.1",
            alert_smtp_port=server.server_address[1],
            alert_email_to="ops@example.org",
        )
        assert send_alert(settings, Alert("run failed", "boom")) == ["email"]
    finally:
        server.shutdown()
    assert "Subject: [gbrec] run failed" in server.messages[0]  # type: ignore[attr-defined]


def test_unreachable_webhook_raises(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, alert_webhook_url="http://127.0.0.1:9/none")
    with pytest.raises(AlertError):
        send_alert(settings, Alert("x", "y"), timeout=2.0)
