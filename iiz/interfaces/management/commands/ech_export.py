"""Write the persons registered with an institution as one eCH message (iiz person delivery), for operators
who hand it to a sedex adapter.

python manage.py ech_export --institution 3 --user rav-berater --output personen.xml
python manage.py ech_export --institution 3 --user rav-berater --all --from 2026-01-01 --output x.xml

The export is made as the named user (a person of that institution with a client-work role): the same
access rules apply as on the web and in the API, and every exported person is recorded in the audit trail
under that user's name. There is no size limit here, unlike on the web and in the API.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from iiz.interfaces.ech.export import institution_ech_export
from iiz.organisations.models import Institution, User


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from error


class Command(BaseCommand):
    help = "Write the persons registered with an institution as one eCH message (XML) to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--institution", type=int, required=True, help="id of the institution")
        parser.add_argument(
            "--user", required=True, help="user name of the person of the institution the export is made as"
        )
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument("--all", action="store_true", help="include ended registrations")
        parser.add_argument("--from", dest="registered_from", help="registered on or after (YYYY-MM-DD)")
        parser.add_argument("--until", dest="registered_until", help="registered on or before (YYYY-MM-DD)")
        parser.add_argument("--recipient", default="", help="sedex id of the recipient, for the header")

    def handle(self, *args: Any, **options: Any) -> None:
        institution = Institution.objects.filter(pk=options["institution"]).first()
        if institution is None:
            raise CommandError(f"Unknown institution id {options['institution']}.")
        user = User.objects.select_related("unit__institution").filter(username=options["user"]).first()
        if user is None or user.institution_id != institution.pk:
            raise CommandError(f"No user {options['user']!r} in {institution.name}.")
        try:
            delivery = institution_ech_export(
                user=user,
                active_only=not options["all"],
                registered_from=_date(options["registered_from"]) if options["registered_from"] else None,
                registered_until=_date(options["registered_until"]) if options["registered_until"] else None,
                recipient_id=options["recipient"],
            )
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from error
        output = Path(options["output"])
        try:
            output.write_bytes(delivery.content)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from error
        self.stdout.write(f"{delivery.persons} persons, message {delivery.message_id}: {output}")
