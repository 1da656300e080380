"""Load the demo: organisation, demo users, synthetic clients and IIZ cases. Refuses production settings.

The demo should show the platform at work: several thousand persons, and several hundred IIZ cases over
three years, enough for the cockpits, the cost-benefit page and the analyses to show real figures for the
canton and most districts. The demo users' own cases (``--cases``) are built step by step through the case
services; the rest of the network's cases, up to ``--case-share`` of all persons, are written in bulk by
the same seeder as the benchmark's. Everything is idempotent: a second run adds nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from iiz.audit.sealing import audit_seal
from iiz.audit.services import audit_sealing_deferred
from iiz.cases.models import Case
from iiz.clients.models import Client
from iiz.demo.bulk_cases import demo_cases_bulk_generate
from iiz.demo.cases import demo_cases_generate
from iiz.demo.generator import FOCUS_SHARE, demo_clients_generate
from iiz.demo.world import DEMO_USERS, demo_world_build, refuse_outside_demo

FOCUS_PERSONS = 600


class Command(BaseCommand):
    help = "Create the demo organisation, the demo users (password 'demo'), synthetic clients and IIZ cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=4000, help="How many clients the demo should have.")
        parser.add_argument(
            "--cases", type=int, default=60,
            help="How many IIZ cases the demo users work on, built through the services (default 60).",
        )
        parser.add_argument(
            "--case-share", type=float, default=0.14,
            help="Share of all clients with an IIZ case; the cases beyond --cases are written in bulk (default 0.14).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Seed for reproducible data.")

    def handle(self, *args: Any, **options: Any) -> None:
        # The generators write many audit entries: they are sealed once at the end, not after every commit.
        with audit_sealing_deferred():
            self._generate(**options)
        sealed = audit_seal(checkpoint=True)
        self.stdout.write(f"Audit trail sealed up to seal {sealed.last_seq}.")

    def _generate(self, **options: Any) -> None:
        refuse_outside_demo()
        units = demo_world_build()
        existing = Client.objects.count()
        wanted = options["clients"]
        if existing < wanted:
            # The demo users' units get enough persons for their own work (about 600), the rest of the
            # network's persons live all over the canton, so that most districts have figures of their own.
            created = demo_clients_generate(count=wanted - existing, seed=options["seed"] + existing, units=units,
                                            focus_share=min(FOCUS_SHARE, FOCUS_PERSONS / wanted))
            self.stdout.write(f"Created {created} synthetic clients ({wanted} in all).")
        else:
            self.stdout.write(f"{existing} clients exist already; nothing generated.")
        share = options["case_share"]
        if not 0 <= share <= 1:
            raise CommandError("--case-share must lie between 0 and 1.")
        wanted_cases = options["cases"]
        existing_cases = Case.objects.count()
        own = 0
        if existing_cases < wanted_cases:
            own = demo_cases_generate(count=wanted_cases - existing_cases, seed=options["seed"] + existing_cases)
            self.stdout.write(f"Created {own} synthetic IIZ cases of the demo users.")
        bulk = demo_cases_bulk_generate(share=share, seed=options["seed"])
        if bulk:
            self.stdout.write(f"Created {bulk} synthetic IIZ cases of the whole network.")
        if own or bulk:
            self.stdout.write(f"{Case.objects.count()} IIZ cases in all.")
        else:
            self.stdout.write(f"{existing_cases} IIZ cases exist already; nothing generated.")
        self.stdout.write("\nDemo users (password: demo):")
        for demo in DEMO_USERS:
            self.stdout.write(f"  {demo.username:<20} {demo.description}")
        self.stdout.write("")
