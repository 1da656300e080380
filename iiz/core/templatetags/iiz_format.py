"""The language tag of a page: the interface languages as spoken in Switzerland."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

register = template.Library()

# The interface languages as spoken in Switzerland (BCP 47), for <html lang> and screen readers.
HTML_LANG = {"de": "de-CH", "fr": "fr-CH", "it": "it-CH", "en": "en-CH"}


@register.simple_tag
def html_lang() -> str:
    language = (get_language() or "de").split("-")[0]
    return HTML_LANG.get(language, language)

