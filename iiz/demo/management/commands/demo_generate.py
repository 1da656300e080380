"""Generate synthetic clients in batches, for the demo and the benchmark. Refuses production settings."""

from __future__ import annotations

import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from iiz.audit.sealing import audit_seal
from iiz.audit.services import audit_sealing_deferred
from iiz.clients.models import Client
from iiz.demo.generator import demo_clients_generate
from iiz.demo.world import demo_world_build, refuse_outside_demo


class Command(BaseCommand):
    help = "Add N synthetic clients (with registrations and consents) to the demo organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=1000, help="How many clients to add.")
        parser.add_argument("--seed", type=int, default=2026,
                            help="Seed for reproducible data; the number of existing clients is added to it.")
        parser.add_argument("--batch-size", type=int, default=1000, help="Clients per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        # The generators write many audit entries: they are sealed once at the end, not after every commit.
        with audit_sealing_deferred():
            self._generate(**options)
        sealed = audit_seal(checkpoint=True)
        self.stdout.write(f"Audit trail sealed up to seal {sealed.last_seq}.")

    def _generate(self, **options: Any) -> None:
        refuse_outside_demo()
        count, batch_size = options["clients"], options["batch_size"]
        if count < 0 or batch_size < 1:
            raise CommandError("--clients must be at least 0 and --batch-size at least 1.")
        units = demo_world_build()
        existing = Client.objects.count()
        started = time.monotonic()

        def progress(created: int) -> None:
            elapsed = time.monotonic() - started
            self.stdout.write(f"  {created:>9,} / {count:,} clients  {elapsed:7.1f} s  "
                              f"{created / elapsed if elapsed else 0:8.0f} clients/s")

        # A new seed for each run on top of existing data, so a second run adds different people.
        created = demo_clients_generate(count=count, seed=options["seed"] + existing, units=units,
                                        batch_size=batch_size, progress=progress)
        elapsed = time.monotonic() - started
        # ru_maxrss is in kilobytes on Linux.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"Created {created:,} clients in {elapsed:.1f} s ({existing + created:,} in all); "
                          f"peak memory {peak_mb:.0f} MB.")
