"""A small HTTP listener for /healthz and /readyz in every gunicorn worker, beside the worker's own requests.

A sync gunicorn worker serves one request at a time: when every worker is busy, a probe on the main port
waits in the same queue as the users' requests and times out, and the load balancer takes the instance out
exactly when it is busiest. Each worker therefore also runs this listener in a thread of its own, on a
port of its own (``GUNICORN_HEALTH_BIND``, shared by the workers with SO_REUSEPORT): the probe is answered
between the worker's other work (Python switches threads every few milliseconds, and a worker waiting for
the database holds no lock), and it reports on that very process. Started by ``post_worker_init`` in
``gunicorn.conf.py``; the answers are those of the views in ``iiz/core/health.py``.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connection

from iiz.core.health import liveness, readiness

logger = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    server_version = "iiz-health"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            status, body = liveness()
        elif path == "/readyz":
            try:
                status, body = readiness()
            finally:
                # Each probe runs in a thread of its own, with a database connection of its own: closed here.
                connection.close()
        else:
            status, body = 404, {"status": "not found"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the signature of the base class
        # Probes every few seconds would drown the access log.
        return


class HealthServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def server_bind(self) -> None:
        # Every worker of the instance listens on the same port; the kernel spreads the probes over them.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


def health_server_start(bind: str) -> HealthServer:
    """Listen on ``host:port`` in a daemon thread and return the server (``shutdown()`` stops it)."""
    host, _, port = bind.rpartition(":")
    server = HealthServer((host.strip("[]") or "0.0.0.0", int(port)), _Handler)  # noqa: S104 - the operator's choice
    threading.Thread(target=server.serve_forever, name="iiz-health", daemon=True).start()
    logger.info("Health listener on %s", bind)
    return server
