"""Local alert receivers for tests: an HTTP webhook and an SMTP server with STARTTLS and
AUTH PLAIN, both on loopback port 0, each in a daemon thread."""

from __future__ import annotations

import base64
import json
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer


@contextmanager
def webhook_server() -> Iterator[tuple[str, list[dict[str, object]]]]:
    """Yields (url, received JSON bodies)."""
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
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    """What the SMTP server saw: the verbs in order, logins and message texts."""

    port: int = 0
    verbs: list[str] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)  # user, password, tls
    messages: list[str] = field(default_factory=list)


@contextmanager
def smtp_server(tls: ssl.SSLContext | None = None) -> Iterator[Mailbox]:
    """Just enough SMTP for smtplib: EHLO advertising STARTTLS (with ``tls``) and AUTH
    PLAIN, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""
    box = Mailbox()

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(f"{line}\r\n".encode())
            self.wfile.flush()

        def handle(self) -> None:
            secure = False
            self.reply("220 localhost test smtp")
            while raw := self.rfile.readline():
                text = raw.decode().rstrip("\r\n")
                verb = text.split(" ")[0].upper()
                box.verbs.append(verb)
                if verb in ("EHLO", "HELO"):
                    extra = ["250-STARTTLS"] if tls is not None and not secure else []
                    for line in ["250-localhost", *extra, "250 AUTH PLAIN"]:
                        self.reply(line)
                elif verb == "STARTTLS" and tls is not None:
                    self.reply("220 go ahead")
                    self.request = tls.wrap_socket(self.request, server_side=True)
                    self.rfile = self.request.makefile("rb")
                    self.wfile = self.request.makefile("wb")
                    secure = True
                elif verb == "AUTH":
                    _, user, password = base64.b64decode(text.split(" ")[2]).decode().split("\0")
                    box.logins.append((user, password, secure))
                    self.reply("235 authenticated")
                elif verb == "DATA":
                    self.reply("354 go")
                    lines = []
                    while (line := self.rfile.readline().decode().rstrip("\r\n")) != ".":
                        lines.append(line)
                    box.messages.append("\n".join(lines))
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
