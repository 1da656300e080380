"""gunicorn settings for production; every value can be overridden on the command line or by GUNICORN_CMD_ARGS."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Each worker is replaced after this many requests (a guard against slow leaks). The jitter spreads the
# replacements: with workers sharing the load evenly, a small jitter would replace them all within seconds of
# each other, and throughput would drop while they start again.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 2)))
accesslog = "-"
# Client data never appear in URLs except opaque ids; the access log keeps no query strings.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# /healthz and /readyz on a port of their own, answered by a thread in every worker even when all workers are
# busy with requests (iiz/core/health_server.py). The load balancer probes this port; empty turns it off.
HEALTH_BIND = os.environ.get("GUNICORN_HEALTH_BIND", "0.0.0.0:8001")


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    if HEALTH_BIND:
        from iiz.core.health_server import health_server_start

        worker.iiz_health_server = health_server_start(HEALTH_BIND)


def worker_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    health = getattr(worker, "iiz_health_server", None)
    if health is not None:
        health.shutdown()
        health.server_close()
