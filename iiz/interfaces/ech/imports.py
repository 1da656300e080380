"""An iiz person delivery as rows of the bulk import.

The whole document is validated first; a document that is not valid is refused as a whole. Then every
person becomes one row: its number is the person's position in the message, its columns are the element
paths below ``person`` (so a rejected value is named by its path), and the values are the texts the CSV
import would read, so that the same checks, preview and all-or-nothing import apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO
from xml.etree import ElementTree  # noqa: S405 - the elements come from schema, parsed safely

from iiz.interfaces.ech.schema import NS_0010, NS_0044, NS_DELIVERY, iter_persons, tag, validate_delivery

# The import's field names and the element path (below person) each is read from.
COLUMNS: dict[str, str] = {
    "ahv_number": "personIdentification/vn",
    "last_name": "personIdentification/officialName",
    "first_name": "personIdentification/firstName",
    "date_of_birth": "personIdentification/dateOfBirth",
    "sex": "personIdentification/sex",
    "bfs_number": "residence/municipalityId",
    "registered_on": "registration/registeredOn",
    "external_case_number": "registration/externalCaseNumber",
    "street": "mailAddress/addressInformation/street",
    "house_number": "mailAddress/addressInformation/houseNumber",
    "postal_code": "mailAddress/addressInformation/swissZipCode",
    "town": "mailAddress/addressInformation/town",
    "phone": "phone",
    "email": "email",
    "languages": "language",
}

_NAMESPACES = {
    "personIdentification": NS_DELIVERY,
    "residence": NS_DELIVERY,
    "registration": NS_DELIVERY,
    "mailAddress": NS_DELIVERY,
    "phone": NS_DELIVERY,
    "email": NS_DELIVERY,
    "language": NS_DELIVERY,
}


def _qualified_path(path: str) -> str:
    """ElementTree's path with namespaces: the first step in ours, eCH-0044 or eCH-0010 below it."""
    steps = path.split("/")
    first, rest = steps[0], steps[1:]
    below = NS_0044 if first == "personIdentification" else NS_0010 if first == "mailAddress" else NS_DELIVERY
    return "/".join([tag(_NAMESPACES[first], first), *(tag(below, step) for step in rest)])


_PATHS = {name: _qualified_path(path) for name, path in COLUMNS.items()}


def _value(person: ElementTree.Element, name: str) -> str:
    if name == "languages":
        return ",".join((e.text or "").strip() for e in person.findall(_PATHS[name]))
    if name == "date_of_birth":
        # eCH-0044 allows a partly known date (year and month, or year); the import needs the whole date and
        # says so when it gets less. A time zone suffix of xs:date is not part of a birth date.
        born = person.find(_PATHS[name])
        child = born[0] if born is not None and len(born) else None
        text = (child.text or "").strip() if child is not None else ""
        return text[:10] if child is not None and child.tag == tag(NS_0044, "yearMonthDay") else text
    element = person.find(_PATHS[name])
    return (element.text or "").strip() if element is not None else ""


def ech_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    """The header (element paths) and one row per person. Raises EchDocumentError for the whole file."""
    root = validate_delivery(stream)
    names = list(COLUMNS)
    yield [COLUMNS[name] for name in names]
    persons = root.iterfind(tag(NS_DELIVERY, "person")) if root is not None else iter_persons(stream)
    for person in persons:
        yield [_value(person, name) for name in names]
