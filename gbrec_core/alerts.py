"""Alerts: a JSON webhook (Slack-compatible ``text`` field) and/or an e-mail.

Configured by ``GBREC_ALERT_WEBHOOK_URL`` and ``GBREC_ALERT_SMTP_HOST`` /
``GBREC_ALERT_SMTP_PORT`` / ``GBREC_ALERT_EMAIL_TO`` / ``GBREC_ALERT_EMAIL_FROM``, with
``GBREC_ALERT_SMTP_STARTTLS`` and ``GBREC_ALERT_SMTP_USER`` / ``GBREC_ALERT_SMTP_PASSWORD``
for relays that require TLS and login. With no channel set, alerts are only logged.

A channel that fails is logged and counted (:func:`alert_failures`) and the other
channels are still tried; the caller only sees :class:`AlertError` when it passes
``raise_errors=True`` (a Dagster sensor does, so its tick shows up as failed).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import smtplib
import ssl
import threading
from collections import Counter
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import httpx

from gbrec_core.errors import UnavailableError
from gbrec_core.redaction import redact
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)

_failures: Counter[str] = Counter()
_lock = threading.Lock()


class AlertError(UnavailableError):
    """An alert channel rejected the alert or could not be reached."""


@dataclasses.dataclass(frozen=True)
class Alert:
    """One alert. ``fields`` are structured values merged into the webhook's JSON body
    (a delivery decision's ``event``, ``experimentId`` ...); ``body`` is the human text."""

    title: str
    body: str
    run_id: str | None = None
    job: str | None = None
    fields: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The webhook JSON; URI passwords in any text are masked."""
        payload = {
            "text": f"{self.title}\n{self.body}",
            "title": self.title,
            "body": self.body,
            "run_id": self.run_id,
            "job": self.job,
            **self.fields,
        }
        cleaned: dict[str, Any] = json.loads(redact(json.dumps(payload, default=str)))
        return cleaned


def alert_failures() -> dict[str, int]:
    """Failed sends per channel since the process started (for metrics and tests)."""
    with _lock:
        return dict(_failures)


def send_alert(
    settings: Settings, alert: Alert, *, timeout: float = 10.0, raise_errors: bool = False
) -> list[str]:
    """Send ``alert`` through every configured channel; returns the channels that took it."""
    channels = _channels(settings)
    if not channels:
        log.warning("alert (no channel configured): %s: %s", alert.title, alert.body)
        return []
    sent: list[str] = []
    errors: list[AlertError] = []
    for name, send in channels.items():
        try:
            send(settings, alert, timeout)
        except AlertError as e:
            with _lock:
                _failures[name] += 1
            log.error("alert %r not sent by %s: %s", alert.title, name, e)
            errors.append(e)
            continue
        sent.append(name)
    if errors and raise_errors:
        raise errors[0]
    return sent


def _channels(settings: Settings) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    if settings.alert_webhook_url:
        channels["webhook"] = _post_webhook
    if settings.alert_smtp_host and settings.alert_email_to:
        channels["email"] = _send_email
    return channels


def _post_webhook(settings: Settings, alert: Alert, timeout: float) -> None:
    url = str(settings.alert_webhook_url)
    try:
        response = httpx.post(url, json=alert.payload(), timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as e:
        raise AlertError(f"alert webhook {url} failed: {e}") from e


def email_message(settings: Settings, alert: Alert) -> EmailMessage:
    """The e-mail: the title as subject, the body, then the structured fields as JSON."""
    message = EmailMessage()
    message["Subject"] = f"[gbrec] {alert.title}"
    message["From"] = settings.alert_email_from
    message["To"] = settings.alert_email_to
    text = alert.body
    if alert.fields:
        text += "\n\n" + json.dumps(dict(alert.fields), indent=2, default=str)
    message.set_content(redact(text))
    return message


def _send_email(settings: Settings, alert: Alert, timeout: float) -> None:
    """STARTTLS (certificate verified against the system trust store) before login, so
    a password never crosses the wire in clear when STARTTLS is on."""
    host, port = str(settings.alert_smtp_host), settings.alert_smtp_port
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            if settings.alert_smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.alert_smtp_user:
                smtp.login(settings.alert_smtp_user, settings.alert_smtp_password or "")
            smtp.send_message(email_message(settings, alert))
    except (OSError, smtplib.SMTPException) as e:
        raise AlertError(f"alert e-mail via {host}:{port} failed: {e}") from e


def dashboard_link(settings: Settings) -> str:
    """``GBREC_DASHBOARD_URL``, else the dashboard of ``gbrec serve`` on its host and port."""
    return settings.dashboard_url or f"http://{settings.api_host}:{settings.api_port}/dashboard"


def delivery_alert(
    settings: Settings, event_fields: Mapping[str, Any], *, dagster_run: str | None = None
) -> Alert:
    """The alert for one delivery decision (an entry of ``gbrec:delivery:decisions``).

    ``event_fields`` holds ``event``, ``experiment_id``, ``champion_version``,
    ``challenger_version``, ``decision``, ``at`` and ``details`` (a JSON object, or its
    text). ``metric`` and ``interval`` come from the details (``interval`` as
    ``[low, high]``, or ``ci_low``/``ci_high``). ``dagster_run`` is the Dagster run that
    trained the challenger (else ``details["dagster_run"]``), linked as ``/runs/<id>``
    of the Dagster UI.
    """
    details = _details(event_fields.get("details"))
    run = dagster_run or details.get("dagster_run")
    fields: dict[str, Any] = {
        "event": str(event_fields.get("event", "")),
        "experimentId": event_fields.get("experiment_id"),
        "championVersion": event_fields.get("champion_version"),
        "challengerVersion": event_fields.get("challenger_version"),
        "decision": event_fields.get("decision"),
        "metric": details.get("metric"),
        "interval": _interval(details),
        "at": event_fields.get("at"),
        "dashboard": dashboard_link(settings),
        "dagsterRun": run,
        "dagsterRunPath": f"/runs/{run}" if run else None,
        "details": details,
    }
    title = (
        f"gbrec {fields['event']}: {fields['experimentId']} (champion "
        f"v{fields['championVersion']}, challenger v{fields['challengerVersion']})"
    )
    body = f"decision: {fields['decision']}\ndashboard: {fields['dashboard']}"
    return Alert(title=title, body=body, run_id=run, fields=fields)


def _details(raw: object) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, str | bytes) and raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"text": raw if isinstance(raw, str) else raw.decode(errors="replace")}
        return dict(parsed) if isinstance(parsed, dict) else {"value": parsed}
    return {}


def _interval(details: Mapping[str, Any]) -> list[float] | None:
    interval = details.get("interval")
    if isinstance(interval, list | tuple) and len(interval) == 2:
        return [float(interval[0]), float(interval[1])]
    for low, high in (("ci_low", "ci_high"), ("ciLow", "ciHigh")):
        if details.get(low) is not None and details.get(high) is not None:
            return [float(details[low]), float(details[high])]
    return None
