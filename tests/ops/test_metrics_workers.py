"""Several worker processes: with PROMETHEUS_MULTIPROC_DIR, any worker's /metrics answers the sum."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]

# One "worker": an app with the observability middleware and /metrics (the real create_app() is too
# slow to import twice here), serving N requests and optionally printing what its /metrics answers.
WORKER = """
import asyncio, sys
import httpx
from fastapi import FastAPI
from app.domain.webhooks.health import queue_health
from app.web.observability import install_observability, observed

class App(FastAPI):  # as app.main.WijkwerkAPI: the middleware outermost
    def build_middleware_stack(self):
        return observed(self, super().build_middleware_stack())

app = App()
install_observability(app, webhook_queue_health=queue_health)

@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}

async def main(requests: int, scrape: bool) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as http:
        for _ in range(requests):
            assert (await http.get("/healthz")).status_code == 200
        if scrape:
            sys.stdout.write("METRICS\\n" + (await http.get("/metrics")).text)

asyncio.run(main(int(sys.argv[1]), sys.argv[2] == "scrape"))
"""


def run_worker(requests: int, scrape: bool, metrics_dir: Path) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(requests), "scrape" if scrape else "-"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


@pytest.mark.slow
def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    run_worker(2, scrape=False, metrics_dir=tmp_path)
    output = run_worker(3, scrape=True, metrics_dir=tmp_path)
    text = output.split("METRICS\n", 1)[1]
    totals = {
        sample.labels.get("route"): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels.get("status") == "200"
    }
    assert totals["/healthz"] == 5  # 2 from the worker that exited, 3 from the one answering
