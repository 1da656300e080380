"""Give a share of the synthetic clients IIZ cases, in bulk, for the benchmark. Refuses production settings."""

from __future__ import annotations

import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from iiz.audit.sealing import audit_seal
from iiz.audit.services import audit_sealing_deferred
from iiz.demo.bulk_cases import SHARE, demo_cases_bulk_generate
from iiz.demo.world import refuse_outside_demo


class Command(BaseCommand):
    help = "Add IIZ cases (screening to follow-up) for about --share of the clients, written in bulk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--share", type=float, default=SHARE,
                            help="Share of all clients that have an IIZ case (default 0.03); existing cases count.")
        parser.add_argument("--seed", type=int, default=2026, help="Seed for reproducible cases.")
        parser.add_argument("--batch-size", type=int, default=2000, help="Clients looked at per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        # The generators write many audit entries: they are sealed once at the end, not after every commit.
        with audit_sealing_deferred():
            self._generate(**options)
        sealed = audit_seal(checkpoint=True)
        self.stdout.write(f"Audit trail sealed up to seal {sealed.last_seq}.")

    def _generate(self, **options: Any) -> None:
        refuse_outside_demo()
        share, batch_size = options["share"], options["batch_size"]
        if not 0 <= share <= 1 or batch_size < 1:
            raise CommandError("--share must lie between 0 and 1 and --batch-size be at least 1.")
        started = time.monotonic()

        def progress(seen: int, created: int) -> None:
            if seen % (batch_size * 10) == 0:
                self.stdout.write(f"  {seen:>9,} clients looked at, {created:,} cases  "
                                  f"{time.monotonic() - started:7.1f} s")

        created = demo_cases_bulk_generate(share=share, seed=options["seed"], batch_size=batch_size,
                                           progress=progress)
        elapsed = time.monotonic() - started
        # ru_maxrss is in kilobytes on Linux.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"Created {created:,} cases in {elapsed:.1f} s; peak memory {peak_mb:.0f} MB.")
