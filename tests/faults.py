"""Helpers of the fault tests: a throw-away Redis server, a real Celery worker, the broker the test process uses.

Nothing here touches the machine's shared Redis: each test starts its own ``redis-server`` on a free port
and stops it (or kills it) itself, and its worker processes are killed by their own process ids.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from iiz.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    """Poll until ``condition()`` is truthy; its value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


class RedisServer:
    """A redis-server of this test alone, without persistence (like the CI's), on a free port."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER, "redis-server is not installed"
        self.process = subprocess.Popen(  # noqa: S603 - a fixed program with fixed arguments
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=10, what="redis-server")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop as an outage does: at once, without saving anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _reset_broker_pools() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Let the test process hand tasks to the broker at ``url`` instead of running them inline."""
    conf = celery_app.conf
    before = (conf.task_always_eager, conf.broker_url)
    conf.task_always_eager, conf.broker_url = False, url
    _reset_broker_pools()
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url = before
        _reset_broker_pools()


class Worker:
    """``celery -A iiz worker`` as production runs it, against this test's database and Redis."""

    def __init__(self, *, redis_url: str, log: Path, extra_env: dict[str, str] | None = None) -> None:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": redis_url,
            "IIZ_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "IIZ_VAR_DIR": str(log.parent / "var"),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "DJANGO_EMAIL_FILE_PATH": str(log.parent / "mail"),
            "IIZ_OUTBOX_HEARTBEAT_SECONDS": "0.5",
            "IIZ_LOG_LEVEL": "WARNING",
            # Django's system checks at start-up, which import every view, are the suite's business.
            "CELERY_SKIP_CHECKS": "1",
            **(extra_env or {}),
        }
        env.pop("IIZ_TASKS_INLINE", None)
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - the venv's own celery with fixed arguments
                [sys.executable, "-m", "celery", "-A", "iiz", "worker", "--pool=solo", "--concurrency=1",
                 "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """kill -9, as the OOM killer or a lost machine does."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def worker(*, redis_url: str, log: Path, extra_env: dict[str, str] | None = None) -> Iterator[Worker]:
    process = Worker(redis_url=redis_url, log=log, extra_env=extra_env)
    try:
        yield process
    finally:
        process.stop()


def mails(directory: Path) -> list[str]:
    """The messages the file e-mail backend of the workers wrote (one file per connection, messages joined)."""
    if not directory.exists():
        return []
    return [path.read_text() for path in sorted(directory.iterdir())]
