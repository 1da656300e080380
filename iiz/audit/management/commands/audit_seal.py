"""Seal the audit entries that have no seal yet and write a signed checkpoint when one is due.

In production the Celery beat task ``iiz.audit.tasks.audit_seal_due`` does this every few seconds; where no
Celery beat runs, ``audit_seal --loop`` does the same as a long-running process. Only one sealer works at a
time (the others wait for its lock); requests that write audit entries never wait for it.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from iiz.audit.sealing import audit_seal


class Command(BaseCommand):
    help = "Append the unsealed audit entries to the keyed chain; write a signed checkpoint when due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep sealing every --interval seconds.")
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--checkpoint", action="store_true", help="Write a checkpoint now if the chain grew.")
        parser.add_argument("--sweep", action="store_true", help="Look at the whole table, not the recent entries.")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            close_old_connections()
            run = audit_seal(checkpoint=options["checkpoint"], sweep=options["sweep"])
            if run.sealed or run.checkpoint or not options["loop"]:
                written = f", checkpoint {run.checkpoint.path}" if run.checkpoint else ""
                self.stdout.write(f"{run.sealed} audit entries sealed, chain at seal {run.last_seq}{written}")
            if not options["loop"]:
                return
            time.sleep(options["interval"])
