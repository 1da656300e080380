"""Load for one target of ``bench/targets.py``; ``bench/run.py`` starts one headless run per target.

Environment: BENCH_TARGET (a target name) and BENCH_FIXTURES (the JSON written by prepare_session.py).
Every simulated user sends requests back to back with its own credentials of the target's persona (a
session, or the API token), as ``X-Forwarded-Proto: https`` from the reverse proxy, and never follows
redirects: a redirect to the login page is a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task
from targets import TARGETS_BY_NAME

TARGET = TARGETS_BY_NAME[os.environ["BENCH_TARGET"]]
DATA = json.loads(Path(os.environ["BENCH_FIXTURES"]).read_text(encoding="utf-8"))
_users = itertools.count()


class BenchUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.headers = {"X-Forwarded-Proto": "https", **TARGET.headers, **TARGET.credentials(DATA, next(_users))}

    @task
    def request(self) -> None:
        path = TARGET.render(DATA["fixtures"], self.rng)
        with self.client.request(TARGET.method, path, name=TARGET.name, headers=self.headers, data=TARGET.body,
                                 allow_redirects=False, catch_response=True) as response:
            if response.status_code != TARGET.expect_status:
                location = response.headers.get("Location", "") if response.headers else ""
                response.failure(f"HTTP {response.status_code} {location}".strip())
