"""The delivery loop's notification hook: log every decision, alert when configured.

Alerts go through :func:`gbrec_core.alerts.send_alert` (webhook and/or SMTP) with the
JSON body of :func:`gbrec_core.alerts.delivery_alert`: event, experiment id, versions,
decision, metric, interval, dashboard link and the Dagster run that trained the
challenger.
"""

from __future__ import annotations

import logging

from gbrec_core.alerts import delivery_alert, send_alert
from gbrec_core.delivery.events import DeliveryEvent, Notify, stream_fields
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
    """One alert for the decision (failures are logged and counted by send_alert)."""
    alert = delivery_alert(settings, stream_fields(event), dagster_run=event.dagster_run_id)
    send_alert(settings, alert)


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
