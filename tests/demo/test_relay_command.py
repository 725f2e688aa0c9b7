"""`wijkwerk relay --once` next to the live demo: it says what became of each delivery and exits 1
when nothing could be delivered, e.g. when it runs without the setting `serve` has (it reads the
same settings as `serve`, nothing else)."""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.demo.live import clean_environment, free_port, machine_token, wijkwerk_command
from tests.support.live_demo import ON_THE_DEMO_WORKER, LiveDemo
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.slow, ON_THE_DEMO_WORKER]

SUMMARY = re.compile(r"^(\d+) delivered, (\d+) to be retried, (\d+) dead, (\d+) cancelled$", re.MULTILINE)
RELAY_TIMEOUT = 300.0  # the command starts Python and joins the embedded server on a busy machine


async def relay_once(demo: LiveDemo, **settings: str) -> tuple[int, str, str]:
    """The command as an operator runs it, in the demo's folder (so its data folder) with ``settings``."""

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*wijkwerk_command(), "relay", "--once"],
            cwd=demo.workspace,
            env=clean_environment(**settings),
            capture_output=True,
            text=True,
            timeout=RELAY_TIMEOUT,
            check=False,
        )

    done = await asyncio.to_thread(run)
    return done.returncode, done.stdout, done.stderr


async def test_the_relay_reports_what_it_delivered_and_fails_when_nothing_arrived(
    live_demo: LiveDemo,
) -> None:
    port = free_port()
    async with httpx.AsyncClient(base_url=live_demo.base_url, timeout=30.0) as http:
        token = await machine_token(http, live_demo.served.credentials(), "partner_b")
        headers = {"Authorization": f"Bearer {token}"}
        # `serve` runs with WIJKWERK_WEBHOOK_ALLOW_PRIVATE_TARGETS=true, so it takes a local receiver.
        created = await http.post(
            "/api/v1/webhooks",
            json={"url": f"http://127.0.0.1:{port}/hooks", "event_types": ["referral.submitted"]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        subscription = created.json()
        referral = await http.post(
            "/api/v1/referrals",
            json={
                "person": {"given_name": "Noor"},
                "buurt_code": "BU99990201",
                "reason_domain": "housing",
                "urgency": "routine",
                "legal_basis": "legal_duty",
                "legal_basis_note": "Huurachterstand (demo)",
            },
            headers={**headers, "Idempotency-Key": secrets.token_hex(16)},
        )
        assert referral.status_code == 201, referral.text
        deliveries = f"/api/v1/webhooks/{subscription['id']}/deliveries"
        try:
            # Without serve's setting the relay refuses the local address: nothing arrives, exit 1.
            code, out, err = await relay_once(live_demo)
            assert code == 1, (out, err)
            delivered, retried, dead, _ = map(int, SUMMARY.findall(out)[0])
            assert delivered == 0 and retried >= 1 and dead == 0, out
            assert "failed with url_address_forbidden" in out, out
            assert "WIJKWERK_WEBHOOK_ALLOW_PRIVATE_TARGETS=true" in out and "same settings as serve" in out
            assert "Nothing could be delivered" in err
            [waiting] = (await http.get(deliveries, headers=headers)).json()["items"]
            assert waiting["status"] == "pending" and waiting["attempts"] == 1

            # With the setting, once the retry is due (backoff: seconds), it arrives: exit 0.
            due = datetime.fromisoformat(waiting["next_attempt_at"])
            await asyncio.sleep(min(max((due - datetime.now(UTC)).total_seconds() + 1, 0), 120))
            with Receiver(port) as receiver:
                code, out, err = await relay_once(live_demo, WIJKWERK_WEBHOOK_ALLOW_PRIVATE_TARGETS="true")
                assert code == 0, (out, err)
                delivered, _, _, _ = map(int, SUMMARY.findall(out)[0])
                assert delivered >= 1, out
                [message] = receiver.received
            event = Webhook(subscription["secret"]).verify(message.body, message.headers)
            assert event["data"]["referral_id"] == referral.json()["id"]
            [sent] = (await http.get(deliveries, headers=headers)).json()["items"]
            assert sent["status"] == "succeeded"
        finally:
            await http.delete(f"/api/v1/webhooks/{subscription['id']}", headers=headers)
