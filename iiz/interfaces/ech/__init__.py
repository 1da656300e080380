"""eCH messages: person identification (eCH-0044) and postal address (eCH-0010) with an eCH-0058 header.

``schema`` loads the vendored XML schemas and reads untrusted documents safely, ``export`` writes a delivery
of persons, ``imports`` turns a delivery into the rows of the bulk import. The schema files and their
provenance are listed in ``schemas/README.md``.
"""
