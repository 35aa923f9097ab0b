"""Alerts reach a local webhook and a local SMTP server (STARTTLS, login) on loopback."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest

from gbrec_core.alerts import Alert, AlertError, alert_failures, delivery_alert, send_alert
from gbrec_core.settings import Settings

from ..alert_servers import smtp_server, webhook_server
from ..tls_support import self_signed


def tls_context(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A self-signed certificate and the server context that presents it."""
    cert, key = self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    return cert, server_tls


def starttls_settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        home=tmp_path,
        alert_smtp_host="localhost",
        alert_smtp_port=port,
        alert_email_to="ops@example.org",
        alert_smtp_starttls=True,
        alert_smtp_user="relay-user",
        alert_smtp_password="s3cret",
    )


def test_webhook_alert(tmp_path: Path) -> None:
    with webhook_server() as (url, received):
        settings = Settings(home=tmp_path, alert_webhook_url=url)
        sent = send_alert(settings, Alert("run failed", "step validated_ratings", run_id="r1"))
    assert sent == ["webhook"]
    assert received[0]["run_id"] == "r1" and "validated_ratings" in str(received[0]["text"])


def test_smtp_alert_with_starttls_and_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, server_tls = tls_context(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test's own CA
    with smtp_server(server_tls) as box:
        settings = starttls_settings(tmp_path, box.port)
        assert send_alert(settings, Alert("run failed", "boom", fields={"event": "srm"})) == [
            "email"
        ]
    assert box.verbs[:3] == ["EHLO", "STARTTLS", "EHLO"]
    assert box.logins == [("relay-user", "s3cret", True)]  # login only inside TLS
    assert "Subject: [gbrec] run failed" in box.messages[0]
    assert '"event": "srm"' in box.messages[0]


def test_smtp_starttls_refuses_an_untrusted_certificate(tmp_path: Path) -> None:
    _, server_tls = tls_context(tmp_path)
    with smtp_server(server_tls) as box:
        settings = starttls_settings(tmp_path, box.port)
        with pytest.raises(AlertError, match="certificate"):
            send_alert(settings, Alert("x", "y"), raise_errors=True, timeout=5.0)
    assert box.logins == []


def test_smtp_login_without_tls(tmp_path: Path) -> None:
    with smtp_server() as box:
        settings = Settings(
            home=tmp_path,
            alert_smtp_host="127.0.0.1",
            alert_smtp_port=box.port,
            alert_email_to="ops@example.org",
            alert_smtp_user="u",
            alert_smtp_password="p",
        )
        assert send_alert(settings, Alert("x", "y")) == ["email"]
    assert "STARTTLS" not in box.verbs and box.logins == [("u", "p", False)]


def test_failed_channel_is_counted_and_logged_not_raised(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, alert_webhook_url="http://127.0.0.1:9/none")
    before = alert_failures().get("webhook", 0)
    assert send_alert(settings, Alert("x", "y"), timeout=2.0) == []
    assert alert_failures()["webhook"] == before + 1
    with pytest.raises(AlertError):
        send_alert(settings, Alert("x", "y"), timeout=2.0, raise_errors=True)


def test_delivery_alert_body(tmp_path: Path) -> None:
    fields = {
        "event": "rollbackChallenger",
        "experiment_id": "challenger-v3",
        "champion_version": "2",
        "challenger_version": "3",
        "decision": "rollback",
        "at": "2026-12-04T14:00:00+00:00",
        "details": json.dumps({"metric": "ctr", "ci_low": -0.2, "ci_high": -0.05}),
    }
    with webhook_server() as (url, received):
        settings = Settings(home=tmp_path, alert_webhook_url=url, api_port=8123)
        send_alert(settings, delivery_alert(settings, fields, dagster_run="run-7"))
    body = received[0]
    assert body["event"] == "rollbackChallenger" and body["experimentId"] == "challenger-v3"
    assert (body["championVersion"], body["challengerVersion"]) == ("2", "3")
    assert body["decision"] == "rollback" and body["metric"] == "ctr"
    assert body["interval"] == [-0.2, -0.05]
    assert body["dashboard"] == "http://127.0.0.1:8123/dashboard"
    assert body["dagsterRun"] == "run-7" and body["dagsterRunPath"] == "/runs/run-7"
    custom = Settings(home=tmp_path, dashboard_url="https://ab.example.org/dash")
    assert delivery_alert(custom, fields).fields["dashboard"] == "https://ab.example.org/dash"
