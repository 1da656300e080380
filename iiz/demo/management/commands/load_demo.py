"""Load the demo: organisation, demo users, synthetic clients and IIZ cases. Refuses production settings."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from iiz.cases.models import Case
from iiz.clients.models import Client
from iiz.demo.cases import demo_cases_generate
from iiz.demo.generator import demo_clients_generate
from iiz.demo.world import DEMO_USERS, demo_world_build, refuse_outside_demo


class Command(BaseCommand):
    help = "Create the demo organisation, the demo users (password 'demo'), synthetic clients and IIZ cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=300, help="How many clients the demo should have.")
        parser.add_argument(
            "--cases", type=int, default=None, help="How many IIZ cases the demo should have (default: clients / 6)."
        )
        parser.add_argument("--seed", type=int, default=2026, help="Seed for reproducible data.")

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_outside_demo()
        units = demo_world_build()
        existing = Client.objects.count()
        wanted = options["clients"]
        if existing < wanted:
            created = demo_clients_generate(count=wanted - existing, seed=options["seed"] + existing, units=units)
            self.stdout.write(f"Created {created} synthetic clients ({wanted} in all).")
        else:
            self.stdout.write(f"{existing} clients exist already; nothing generated.")
        wanted_cases = options["cases"] if options["cases"] is not None else wanted // 6
        existing_cases = Case.objects.count()
        if existing_cases < wanted_cases:
            created = demo_cases_generate(count=wanted_cases - existing_cases, seed=options["seed"] + existing_cases)
            self.stdout.write(f"Created {created} synthetic IIZ cases ({existing_cases + created} in all).")
        else:
            self.stdout.write(f"{existing_cases} IIZ cases exist already; nothing generated.")
        self.stdout.write("\nDemo users (password: demo):")
        for demo in DEMO_USERS:
            self.stdout.write(f"  {demo.username:<20} {demo.description}")
        self.stdout.write("")
