"""The pages and endpoints the benchmark measures: one table, one row per target.

A path may name fixtures in braces, filled in for every request: ``{client}`` is the public id of a
client the bench case worker may see, ``{surname}`` the most common last name among them (URL-encoded),
``{year}`` the current year and ``{district}`` the district (Bezirk number) with the most cases.
``persona`` names whose credentials a request carries (see ``bench/prepare_session.py``):

- ``rav-uster``: session of a case worker at RAV Uster (signed in with the second factor);
- ``traegerschaft``: session of a member of the supervisory body (strategic dashboard);
- ``koordination``: session of a coordinator of the Geschäftsstelle iiz (operational dashboard);
- ``api``: ``Authorization: Bearer`` with an API token of RAV Uster's institution;
- ``""``: nothing (public endpoints).

Add a row to measure a new page or API call; ``bench/run.py`` and ``bench/locustfile.py`` need no change.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

SESSION_PERSONAS = ("rav-uster", "traegerschaft", "koordination")


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    persona: str = "rav-uster"
    method: str = "GET"
    expect_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    @property
    def auth(self) -> bool:
        return bool(self.persona)

    def render(self, fixtures: dict[str, list[str]], rng: random.Random) -> str:
        return self.path.format_map({key: quote(rng.choice(values)) for key, values in fixtures.items() if values})

    def credentials(self, data: dict[str, Any], index: int) -> dict[str, str]:
        """The headers that sign a request in as the persona; ``index`` picks one of its sessions."""
        if not self.persona:
            return {}
        persona = data["personas"][self.persona]
        if self.persona in SESSION_PERSONAS:
            sessions = persona["sessions"]
            return {"Cookie": f"{data['cookie_name']}={sessions[index % len(sessions)]}"}
        tokens = persona["tokens"]
        return {"Authorization": f"Bearer {tokens[index % len(tokens)]}", "Accept": "application/json"}


TARGETS: tuple[Target, ...] = (
    # The trivial Django view: the ceiling of the stack (gunicorn, middleware, no database).
    Target("healthz", "/healthz", persona=""),
    Target("readyz", "/readyz", persona=""),
    Target("start page", "/"),
    Target("client search", "/klienten/?q={surname}"),
    Target("client search (htmx)", "/klienten/?q={surname}", headers={"HX-Request": "true"}),
    Target("client detail", "/klienten/{client}/"),
    # Steering: every KPI over all cases of the canton (the dataset is loaded on each request).
    Target("strategic dashboard", "/steuerung/strategisch/", persona="traegerschaft"),
    Target("strategic dashboard (year and district)", "/steuerung/strategisch/?period={year}&district={district}",
           persona="traegerschaft"),
    Target("operational dashboard", "/steuerung/operativ/", persona="koordination"),
    # The REST API as a partner system calls it.
    Target("API client search", "/api/v1/clients/?name={surname}", persona="api"),
    Target("API KPIs", "/api/v1/kpis/?period={year}", persona="api"),
)
TARGETS_BY_NAME = {target.name: target for target in TARGETS}
