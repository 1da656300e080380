"""Load the demo: organisation, demo users and synthetic clients. Refuses production settings."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from iiz.clients.models import Client
from iiz.demo.generator import demo_clients_generate
from iiz.demo.world import DEMO_USERS, demo_world_build, refuse_outside_demo


class Command(BaseCommand):
    help = "Create the demo organisation, the demo users (password 'demo') and synthetic clients."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=300, help="How many clients the demo should have.")
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
        self.stdout.write("\nDemo users (password: demo):")
        for demo in DEMO_USERS:
            self.stdout.write(f"  {demo.username:<20} {demo.description}")
        self.stdout.write("")
