"""Count the SQL queries of one request to each target, in-process, with the server's settings.

The load generators see the server from outside; the number of queries a page runs is what tells whether
it grows with the data (an N+1 shows as a count that grows with the page's rows). ``bench/run.py`` runs
this with the production environment and the fixtures of ``prepare_session.py`` and records the count
beside each target's figures.

Usage: python bench/query_counts.py fixtures.json > counts.json
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iiz.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from targets import TARGETS  # noqa: E402


def main() -> None:
    data = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    rng = random.Random(1)
    counts: dict[str, int | None] = {}
    for target in TARGETS:
        path = target.render(data["fixtures"], rng)
        client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
        headers = {**target.headers, **target.credentials(data, 0)}
        cookie = headers.pop("Cookie", "")
        if cookie:
            name, _, value = cookie.partition("=")
            client.cookies[name] = value
        # The first request warms the caches a worker keeps (roles, catalogues); the second is counted.
        client.generic(target.method, path, data=target.body or "", headers=headers)
        with CaptureQueriesContext(connection) as queries:
            response = client.generic(target.method, path, data=target.body or "", headers=headers)
        counts[target.name] = len(queries) if response.status_code == target.expect_status else None
    json.dump(counts, sys.stdout)


if __name__ == "__main__":
    main()
