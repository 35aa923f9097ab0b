"""The delivery loop's notification hook: log every decision, alert when configured.

Alerts go through ``gbrec_core.alerts.send_alert(settings, Alert(title, body, run_id,
job))`` (webhook and/or SMTP). That module is imported when a decision is made, not at
import time, so the loop runs (logging only) where alerts are not configured.
"""

from __future__ import annotations

import importlib
import json
import logging

from gbrec_core.delivery.events import DeliveryEvent, Notify
from gbrec_core.errors import GbrecError
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)


def alerts_configured(settings: Settings) -> bool:
    return bool(
        settings.alert_webhook_url or (settings.alert_smtp_host and settings.alert_email_to)
    )


def title(event: DeliveryEvent) -> str:
    return f"gbrec delivery: {event.event} {event.experiment_id} ({event.decision})"


def send(settings: Settings, event: DeliveryEvent) -> None:
    """One alert whose body is the decision's JSON payload."""
    alerts = importlib.import_module("gbrec_core.alerts")
    body = json.dumps(event.payload(), default=str, indent=2)
    alerts.send_alert(settings, alerts.Alert(title(event), body, run_id=event.dagster_run_id))


def alert_notifier(settings: Settings) -> Notify:
    """Log each decision at WARNING; alert it too when a webhook or SMTP is configured.
    A failed alert is logged (the decision already stands), never raised."""

    def notify(event: DeliveryEvent) -> None:
        log.warning("%s", title(event))
        if not alerts_configured(settings):
            return
        try:
            send(settings, event)
        except (GbrecError, OSError) as e:
            log.error("delivery alert for %s failed: %s", event.experiment_id, e)

    return notify
