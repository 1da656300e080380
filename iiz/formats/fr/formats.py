"""Swiss formats (see ``iiz.formats``)."""

from iiz.formats.common import *  # noqa: F401,F403 - the same Swiss conventions in every language
