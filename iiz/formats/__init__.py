"""Swiss conventions for every interface language (``FORMAT_MODULE_PATH``).

The platform serves the canton of Zürich in German, French, Italian and English, and all four follow the
Swiss conventions of the Federal Chancellery's writing rules: dates as 06.12.2026, the apostrophe as the
thousands separator of amounts and counts (CHF 1'112'000) and the decimal point (66.7 %). Django's own
``de``/``fr``/``it``/``en`` formats are those of Germany, France, Italy and the USA, so each language has its
module here; ``common`` holds the shared values.
"""
