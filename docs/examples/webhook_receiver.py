"""A webhook receiver for trying Wijkwerk's webhooks on your own machine (development only).

    WEBHOOK_SECRET=whsec_... .venv/bin/python docs/examples/webhook_receiver.py \\
        --listen 127.0.0.1:8766 [--events N]

Listens on a local address (127.0.0.1:8766 by default). For each POST it verifies the Standard
Webhooks signature over the raw body before parsing it (400 when it does not check out: the relay
tries again later), drops a message it has seen before (``webhook-id``: deliveries are
at-least-once), prints the event and answers 204 at once. ``GET /`` answers 200, so a script can wait
until it listens. With ``--events N`` it stops after N verified events. The secret comes from the
environment (the subscription's ``secret``), never the command line. A real receiver does the same
behind https, and does its work after answering.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def serve(host: str, port: int, secret: str, events: int | None) -> None:
    verifier = Webhook(secret)
    seen: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(200)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                event = verifier.verify(raw, headers)
            except WebhookVerificationError:
                self._answer(400)
                return
            self._answer(204)
            with lock:
                if headers["webhook-id"] in seen:
                    return
                seen.add(headers["webhook-id"])
                print(json.dumps(event), flush=True)
                if events is not None and len(seen) >= events:
                    threading.Thread(target=server.shutdown).start()

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass  # the events are printed; request lines would only repeat them

    server = ThreadingHTTPServer((host, port), Handler)
    with server:
        server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listen", default="127.0.0.1:8766", help="host:port (default 127.0.0.1:8766)")
    parser.add_argument("--events", type=int, help="stop after this many verified events")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    serve(host, int(port), os.environ["WEBHOOK_SECRET"], args.events)


if __name__ == "__main__":
    main()
