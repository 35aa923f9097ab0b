"""The notify hook logs every decision and alerts only when alerts are configured."""

from __future__ import annotations

import logging
import sys
import types
from typing import Any

import pytest

from gbrec_core.delivery.events import DeliveryEvent
from gbrec_core.delivery.notify import alert_notifier
from gbrec_core.settings import Settings

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


def _fake_alerts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    sent: list[Any] = []
    module = types.ModuleType("gbrec_core.alerts")

    class Alert:
        def __init__(self, title: str, body: str, run_id: str | None = None) -> None:
            self.title, self.body, self.run_id = title, body, run_id

    module.Alert = Alert  # type: ignore[attr-defined]
    module.send_alert = lambda settings, alert: sent.append(alert)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gbrec_core.alerts", module)
    return sent


def test_logs_without_alert_settings(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sent = _fake_alerts(monkeypatch)
    with caplog.at_level(logging.WARNING):
        alert_notifier(Settings(home=tmp_path))(EVENT)
    assert "rollbackChallenger challenger-v3" in caplog.text and sent == []


def test_alerts_with_a_webhook(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _fake_alerts(monkeypatch)
    settings = Settings(home=tmp_path, alert_webhook_url="http://hook")
    alert_notifier(settings)(EVENT)
    [alert] = sent
    assert alert.run_id == "r1" and '"experimentId": "challenger-v3"' in alert.body
