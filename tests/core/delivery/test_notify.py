"""The notify hook logs every decision and alerts (a real local webhook) when configured."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gbrec_core.delivery.events import DeliveryEvent
from gbrec_core.delivery.notify import alert_notifier
from gbrec_core.settings import Settings

from ...alert_servers import webhook_server

EVENT = DeliveryEvent(
    event="rollbackChallenger",
    experiment_id="challenger-v3",
    champion_version="2",
    challenger_version="3",
    decision="rolled back",
    metric="ctr",
    interval=(-0.3, -0.2),
    dashboard_url="http://x/dashboard",
    dagster_run_id="r1",
)


def test_logs_without_alert_settings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with webhook_server() as (_, received), caplog.at_level(logging.WARNING):
        alert_notifier(Settings(home=tmp_path))(EVENT)
    assert "rollbackChallenger challenger-v3" in caplog.text and received == []


def test_alerts_with_a_webhook(tmp_path: Path) -> None:
    with webhook_server() as (url, received):
        alert_notifier(Settings(home=tmp_path, alert_webhook_url=url))(EVENT)
    [body] = received
    assert body["event"] == "rollbackChallenger" and body["experimentId"] == "challenger-v3"
    assert body["championVersion"] == "2" and body["challengerVersion"] == "3"
    assert body["metric"] == "ctr" and body["interval"] == [-0.3, -0.2]
    assert body["dagsterRun"] == "r1" and body["dashboard"].endswith("/dashboard")
