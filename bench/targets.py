"""The pages and endpoints the benchmark measures: one table, one row per target.

A path may name fixtures in braces, filled in for every request: ``{client}`` is the public id of a
client the bench user may see, ``{surname}`` the most common last name among them (URL-encoded).
Add a row to measure a new page or API call; ``bench/run.py`` and ``bench/locustfile.py`` need no change.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from urllib.parse import quote


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    # Whether the request carries the bench user's session (signed in with the second factor).
    auth: bool = True
    method: str = "GET"
    expect_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    def render(self, fixtures: dict[str, list[str]], rng: random.Random) -> str:
        return self.path.format_map({key: quote(rng.choice(values)) for key, values in fixtures.items() if values})


TARGETS: tuple[Target, ...] = (
    # The trivial Django view: the ceiling of the stack (gunicorn, middleware, no database).
    Target("healthz", "/healthz", auth=False),
    Target("readyz", "/readyz", auth=False),
    Target("start page", "/"),
    Target("client search", "/klienten/?q={surname}"),
    Target("client search (htmx)", "/klienten/?q={surname}", headers={"HX-Request": "true"}),
    Target("client detail", "/klienten/{client}/"),
)
TARGETS_BY_NAME = {target.name: target for target in TARGETS}
