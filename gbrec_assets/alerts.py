"""Alerts for the Dagster side: the framework-free :mod:`gbrec_core.alerts`, re-exported."""

from gbrec_core.alerts import Alert, AlertError, alert_failures, delivery_alert, send_alert

__all__ = ["Alert", "AlertError", "alert_failures", "delivery_alert", "send_alert"]
