"""Failure alerts: a JSON webhook (Slack-compatible ``text`` field) and/or an e-mail.

Configured by ``GBREC_ALERT_WEBHOOK_URL`` and ``GBREC_ALERT_SMTP_HOST`` /
``GBREC_ALERT_SMTP_PORT`` / ``GBREC_ALERT_EMAIL_TO`` / ``GBREC_ALERT_EMAIL_FROM``.
With neither set, alerts are only logged. A channel that cannot be reached raises
:class:`AlertError`, so the sensor tick shows up as failed in the UI instead of the
alert being dropped silently.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
from email.message import EmailMessage

import httpx

from gbrec_core.errors import UnavailableError
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)


class AlertError(UnavailableError):
    """An alert channel rejected the alert or could not be reached."""


@dataclasses.dataclass(frozen=True)
class Alert:
    title: str
    body: str
    run_id: str | None = None
    job: str | None = None

    def payload(self) -> dict[str, str | None]:
        return {
            "text": f"{self.title}\n{self.body}",
            "title": self.title,
            "body": self.body,
            "run_id": self.run_id,
            "job": self.job,
        }


def send_alert(settings: Settings, alert: Alert, timeout: float = 10.0) -> list[str]:
    """Send ``alert`` through every configured channel; returns the channels used."""
    sent: list[str] = []
    if settings.alert_webhook_url:
        _post_webhook(settings.alert_webhook_url, alert, timeout)
        sent.append("webhook")
    if settings.alert_smtp_host and settings.alert_email_to:
        _send_email(settings, alert, timeout)
        sent.append("email")
    if not sent:
        log.warning("alert (no channel configured): %s: %s", alert.title, alert.body)
    return sent


def _post_webhook(url: str, alert: Alert, timeout: float) -> None:
    try:
        response = httpx.post(url, json=alert.payload(), timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as e:
        raise AlertError(f"alert webhook {url} failed: {e}") from e


def _send_email(settings: Settings, alert: Alert, timeout: float) -> None:
    message = EmailMessage()
    message["Subject"] = f"[gbrec] {alert.title}"
    message["From"] = settings.alert_email_from
    message["To"] = settings.alert_email_to
    message.set_content(alert.body)
    host, port = str(settings.alert_smtp_host), settings.alert_smtp_port
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as e:
        raise AlertError(f"alert e-mail via {host}:{port} failed: {e}") from e
