"""AHV numbers (AHVN13): validation and formatting through python-stdnum."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.ch import ssn
from stdnum.exceptions import ValidationError as StdnumError

DUPLICATE_AHV_MESSAGE = gettext_lazy(
    "Zu dieser AHV-Nummer gibt es bereits eine Person. Suchen Sie sie, statt sie neu zu erfassen."
)


def ahv_invalid_message() -> str:
    """The answer for a number that is not valid, and for one that belongs to a person the user may not see
    under another name or birth date: the two must not be told apart."""
    return _("Ungültige AHV-Nummer. Erwartet wird 756.XXXX.XXXX.XX mit korrekter Prüfziffer.")


def ahv_normalise(value: str) -> str:
    """Return the 13 digits of a valid AHV number, or raise a ValidationError in the user's language."""
    try:
        return str(ssn.validate(value or ""))
    except StdnumError as error:
        raise ValidationError(ahv_invalid_message(), code="invalid_ahv") from error


def ahv_format(value: str) -> str:
    return str(ssn.format(value))
