"""Views of IIZ cases.

``entry``: before a case (screening, target-group check, opening); ``pages``: reading cases; ``changes``,
``plan`` and ``meetings``: changing a case. ``page`` renders the case page and answers every change;
``case_forms`` builds the page's forms from the case file.
"""
