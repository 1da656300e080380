"""The iiz person delivery schema, and reading untrusted XML documents safely against it.

An uploaded document is parsed by our own expat loop: a document type declaration (and with it every entity,
external or internal, so also "billion laughs") is refused before anything is expanded, and every element
remembers its line so that a schema error can name it. xmlschema then validates the whole tree, with its own
defusing switched on and every access to other resources blocked. Errors are described in German, with the
line, the person's position in the message and the element path.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast
from xml.etree import ElementTree  # noqa: S405 - our own expat loop refuses DTDs and entities, see _iterparse
from xml.parsers import expat  # noqa: S410 - ditto

import xmlschema
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from xmlschema.exceptions import XMLResourceError, XMLResourceForbidden

NS_DELIVERY = "http://www.iiz-zh.ch/xmlns/person-delivery/1"
NS_0058 = "http://www.ech.ch/xmlns/eCH-0058/5"
NS_0044 = "http://www.ech.ch/xmlns/eCH-0044/4"
NS_0010 = "http://www.ech.ch/xmlns/eCH-0010/7"
PREFIXES = {"iiz": NS_DELIVERY, "eCH-0058": NS_0058, "eCH-0044": NS_0044, "eCH-0010": NS_0010}
DELIVERY_VERSION = "1.0"

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_FILE = SCHEMA_DIR / "iiz-person-delivery-1-0.xsd"

_CHUNK = 64 * 1024
# Larger documents are validated lazily (bounded memory, no line numbers in errors).
LAZY_ABOVE_BYTES = 2 * 1024 * 1024


class EchDocumentError(Exception):
    """The document as a whole is refused: not XML, forbidden constructs, or not valid against the schema."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Forbidden(Exception):
    pass


class _TooComplex(Exception):
    """Deeper or wider than any delivery: refused while parsing, before a validator builds an error per element."""


# A delivery is a few levels deep and a person has a few dozen elements; only the root holds many (the persons).
MAX_DEPTH = 16
MAX_CHILDREN = 200


def _too_complex_error() -> EchDocumentError:
    return EchDocumentError(
        _(
            "Die Datei ist keine iiz-Personenlieferung: sie ist tiefer verschachtelt oder enthält mehr Elemente "
            "an einer Stelle, als eine Lieferung haben kann."
        )
    )


class _LineElement(ElementTree.Element):
    """An element that knows the line it starts on (the C element takes no extra attributes)."""

    sourceline: int = 0


class _Source(io.RawIOBase):
    """The upload's bytes and nothing else: a stored file's ``url`` would otherwise count as a location
    to xmlschema, which blocks every location."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@functools.cache
def delivery_schema() -> xmlschema.XMLSchema10:
    """The delivery schema with the eCH schemas it imports, all from the files beside this module."""
    return xmlschema.XMLSchema10(str(SCHEMA_FILE), allow="sandbox", base_url=str(SCHEMA_DIR))


def tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def local_name(qualified: str) -> str:
    return qualified.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _iterparse(source: Any, events: Any = None) -> Iterator[tuple[str, Any]]:
    """ElementTree.iterparse's events, from expat with DTDs and entities refused and lines kept."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    builder = ElementTree.TreeBuilder(element_factory=_LineElement)
    queue: list[tuple[str, Any]] = []
    # The number of children seen so far of each open element, root first.
    children: list[int] = []
    delivery = "{" + NS_DELIVERY + "}delivery"
    root_children = {"{" + NS_DELIVERY + "}deliveryHeader", "{" + NS_DELIVERY + "}person"}
    roots: list[str] = []

    def qualified(name: str) -> str:
        return "{" + name if "}" in name else name

    def start(name: str, attributes: dict[str, str]) -> None:
        if children:
            children[-1] += 1
            # Under a delivery only its header and persons (another root is refused by the caller).
            if len(children) == 1 and roots[0] == delivery and qualified(name) not in root_children:
                raise _TooComplex
            if len(children) > 1 and children[-1] > MAX_CHILDREN:
                raise _TooComplex
        else:
            roots.append(qualified(name))
        children.append(0)
        if len(children) > MAX_DEPTH:
            raise _TooComplex
        element = builder.start(qualified(name), {qualified(k): v for k, v in attributes.items()})
        element.sourceline = parser.CurrentLineNumber  # type: ignore[attr-defined]
        queue.append(("start", element))

    def end(name: str) -> None:
        children.pop()
        queue.append(("end", builder.end(qualified(name))))

    def start_ns(prefix: str | None, uri: str) -> None:
        queue.append(("start-ns", (prefix or "", uri)))

    def end_ns(prefix: str | None) -> None:
        queue.append(("end-ns", None))

    def forbid(*args: Any) -> None:
        raise _Forbidden

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartNamespaceDeclHandler = start_ns
    parser.EndNamespaceDeclHandler = end_ns
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    parser.UnparsedEntityDeclHandler = forbid
    parser.ExternalEntityRefHandler = forbid  # type: ignore[assignment]
    while True:
        chunk = source.read(_CHUNK)
        parser.Parse(chunk, not chunk)
        yield from queue
        queue.clear()
        if not chunk:
            return


def _path_of(element: ElementTree.Element, root: ElementTree.Element) -> tuple[int | None, str]:
    """The position of the person the element belongs to (if any) and its path below the person."""
    parents = {child: parent for parent in root.iter() for child in parent}
    names: list[str] = []
    node: ElementTree.Element | None = element
    while node is not None and parents.get(node) is not root and node is not root:
        names.append(local_name(node.tag))
        node = parents.get(node)
    if node is None or node is root:
        return None, "/".join([local_name(root.tag), *reversed(names)])
    top_name = local_name(node.tag)
    if node.tag != tag(NS_DELIVERY, "person"):
        return None, "/".join([top_name, *reversed(names)])
    persons = [child for child in root if child.tag == node.tag]
    return persons.index(node) + 1, "/".join(reversed(names)) or top_name


_BUILTIN_EXPECTED = {
    "date": gettext_lazy("ein Datum JJJJ-MM-TT"),
    "dateTime": gettext_lazy("Datum und Uhrzeit JJJJ-MM-TTThh:mm:ss"),
    "gYear": gettext_lazy("ein Jahr JJJJ"),
    "gYearMonth": gettext_lazy("Jahr und Monat JJJJ-MM"),
    "boolean": gettext_lazy("true oder false"),
    "int": gettext_lazy("eine ganze Zahl"),
    "integer": gettext_lazy("eine ganze Zahl"),
    "unsignedLong": gettext_lazy("eine ganze Zahl"),
    "unsignedInt": gettext_lazy("eine ganze Zahl"),
    "nonNegativeInteger": gettext_lazy("eine ganze Zahl"),
}


def _reason(error: xmlschema.XMLSchemaValidationError) -> str:
    """The reason of a schema error in German (xmlschema speaks English only)."""
    validator: Any = error.validator
    kind = type(validator).__name__
    value = error.obj if isinstance(error.obj, str) else ""
    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
        expected = ", ".join(dict.fromkeys(local_name(t) for t in error.expected_tags))
        if error.invalid_tag and expected:
            return _("unerwartetes Element «%(tag)s» (erwartet: %(expected)s).") % {
                "tag": local_name(error.invalid_tag),
                "expected": expected,
            }
        if error.invalid_tag:
            return _("unerwartetes Element «%(tag)s» (hier ist kein weiteres Element erlaubt).") % {
                "tag": local_name(error.invalid_tag)
            }
        return _("unvollständig, es fehlt: %(expected)s.") % {"expected": expected or "–"}
    if kind == "XsdMaxLengthFacet":
        return _("«%(value)s» ist zu lang (höchstens %(n)s Zeichen).") % {"value": value, "n": validator.value}
    if kind in {"XsdMinLengthFacet", "XsdLengthFacet"}:
        return _("«%(value)s» ist zu kurz (mindestens %(n)s Zeichen).") % {"value": value, "n": validator.value}
    if kind == "XsdEnumerationFacets":
        allowed = ", ".join(str(item) for item in getattr(validator, "enumeration", []))
        return _("«%(value)s» ist nicht erlaubt (erlaubt: %(allowed)s).") % {"value": value, "allowed": allowed}
    if kind in {"XsdMinInclusiveFacet", "XsdMaxInclusiveFacet", "XsdMinExclusiveFacet", "XsdMaxExclusiveFacet"}:
        return _("«%(value)s» liegt ausserhalb des erlaubten Bereichs.") % {"value": value}
    if kind == "XsdPatternFacets":
        return _("«%(value)s» hat nicht das erwartete Format.") % {"value": value}
    if kind == "XsdAttribute" or "attribute" in kind.lower():
        return _("Attribut ungültig oder fehlt: «%(name)s».") % {"name": getattr(validator, "local_name", "") or ""}
    primitive = getattr(validator, "primitive_type", None) or validator
    builtin = _BUILTIN_EXPECTED.get(local_name(getattr(primitive, "name", "") or ""))
    if builtin:
        return _("«%(value)s» ist ungültig, erwartet wird %(expected)s.") % {"value": value, "expected": str(builtin)}
    if value:
        return _("«%(value)s» ist kein gültiger Wert.") % {"value": value}
    return _("entspricht nicht dem Schema.")


def _describe(error: xmlschema.XMLSchemaValidationError, root: ElementTree.Element) -> str:
    element = error.elem if error.elem is not None else root
    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError) and error.invalid_tag:
        element = element[error.index]  # the unexpected child itself, for its line and path
    person, path = _path_of(element, root)
    where = {"line": getattr(element, "sourceline", "?"), "path": path}
    if person is not None:
        where["person"] = person
        text = _("Die Datei entspricht nicht dem Schema: Zeile %(line)s, Person %(person)s, %(path)s: ") % where
    else:
        text = _("Die Datei entspricht nicht dem Schema: Zeile %(line)s, %(path)s: ") % where
    return text + _reason(error)


_STEP = re.compile(r"^(?:[^:/\[]+:)?([^:/\[]+)(?:\[(\d+)\])?$")


def _describe_lazy(error: xmlschema.XMLSchemaValidationError) -> str:
    """The same description for a document validated lazily, which keeps no tree (and so no line): the
    person and the element path are read from the error's path, ``/iiz:delivery/iiz:person[3]/...``."""
    steps = [_STEP.match(step) for step in (error.path or "").split("/") if step][1:]
    names = [(match.group(1), match.group(2)) for match in steps if match]
    person = None
    if names and names[0][0] == "person":
        person = int(names[0][1] or 1)
        names = names[1:]
    path = [name for name, _index in names]
    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
        # Validated lazily, such an error's path is that of the last element read, not of the parent: name
        # only the element that was not expected (the reason names what is missing otherwise).
        path = [local_name(error.invalid_tag)] if error.invalid_tag else []
    where = {"person": person, "path": "/".join(path) or "delivery"}
    if person is not None:
        text = _("Die Datei entspricht nicht dem Schema: Person %(person)s, %(path)s: ") % where
    else:
        text = _("Die Datei entspricht nicht dem Schema: %(path)s: ") % where
    return text + _reason(error)


def _size(stream: IO[bytes]) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


@contextmanager
def _refusals() -> Iterator[None]:
    """What parsing and validating may raise, as the reason a delivery is refused (in German)."""
    try:
        yield
    except expat.ExpatError as error:
        raise EchDocumentError(
            _("Die Datei ist kein gültiges XML (Zeile %(line)s, Spalte %(column)s).")
            % {"line": error.lineno, "column": error.offset + 1}
        ) from error
    except (_Forbidden, XMLResourceForbidden) as error:
        raise EchDocumentError(
            _(
                "Die Datei enthält eine Dokumenttyp-Deklaration (DTD) oder Entitäten. Das ist aus "
                "Sicherheitsgründen nicht erlaubt."
            )
        ) from error
    except _TooComplex as error:
        raise _too_complex_error() from error
    except XMLResourceError as error:
        # xmlschema's own guards: its defusing, the maximum depth and number of elements.
        raise EchDocumentError(
            _("Die Datei kann nicht gelesen werden: sie ist zu gross, zu tief verschachtelt oder enthält Entitäten.")
        ) from error


def _resource(stream: IO[bytes], *, lazy: bool) -> xmlschema.XMLResource:
    with _refusals():
        source = cast(IO[bytes], _Source(stream))
        return xmlschema.XMLResource(source, defuse="always", allow="none", iterparse=_iterparse, lazy=lazy)


def validate_delivery(stream: IO[bytes], *, lazy: bool | None = None) -> ElementTree.Element | None:
    """Validate a whole delivery, or raise EchDocumentError saying why not (in German).

    A small document is read into a tree, whose root is returned and whose elements know their lines. A
    large one is validated lazily, one person at a time, so that memory stays bounded; nothing is returned
    then (read the persons with ``iter_persons``) and errors name the person and path but not the line.
    """
    lazy = _size(stream) > LAZY_ABOVE_BYTES if lazy is None else lazy
    resource = _resource(stream, lazy=lazy)
    root = resource.root
    if root.tag != tag(NS_DELIVERY, "delivery"):
        raise EchDocumentError(
            _(
                "Die Datei ist keine iiz-Personenlieferung: erwartet wird das Element «delivery» im Namensraum "
                "«%(ns)s», gefunden «%(found)s»."
            )
            % {"ns": NS_DELIVERY, "found": root.tag}
        )
    with _refusals():  # a lazy resource parses as it validates
        first = next(delivery_schema().iter_errors(resource, use_location_hints=False), None)
    if first is not None:
        raise EchDocumentError(_describe_lazy(first) if lazy else _describe(first, root))
    return None if lazy else root


def read_delivery(stream: IO[bytes]) -> ElementTree.Element:
    """Parse and validate a delivery into a tree; its root, or EchDocumentError saying why not."""
    root = validate_delivery(stream, lazy=False)
    assert root is not None  # noqa: S101 - validated as a tree, never lazily
    return root


def iter_persons(stream: IO[bytes]) -> Iterator[ElementTree.Element]:
    """The persons of a validated delivery one after the other, each dropped once it has been handed out."""
    stream.seek(0)
    root: ElementTree.Element | None = None
    depth = 0
    person = tag(NS_DELIVERY, "person")
    for event, element in _iterparse(stream):
        if event == "start":
            depth += 1
            root = element if root is None else root
        elif event == "end":
            depth -= 1
            if depth == 1 and root is not None:
                if element.tag == person:
                    yield element
                root.remove(element)
