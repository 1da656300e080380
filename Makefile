# iiz: two commands on a fresh machine. `make demo` serves the demo; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
CLIENTS ?= 4000
BENCH_CLIENTS ?= 100000
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench lock messages clean

# The venv is rebuilt only when a lock file changes, so a second `make demo` starts fast.
# The pip that `python3.11 -m venv` ships cannot install a hashed lock that names an extra of a locked
# package, so the venv's pip is replaced by the locked one first. The locks are complete (every
# dependency pinned with its hashes), so they are installed with --no-deps, the documented way to
# install a full hashed lock, and `pip check` proves that nothing is missing.
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps
$(STAMP): requirements/pip.txt requirements/main.txt requirements/dev.txt
	rm -f $(STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements/pip.txt
	$(PIP_INSTALL) -r requirements/main.txt -r requirements/dev.txt
	$(PY) -m pip check --disable-pip-version-check
	touch $(STAMP)

demo: $(STAMP)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py load_demo --clients $(CLIENTS)
	$(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy iiz

# The whole suite runs on SQLite; with DATABASE_URL set it runs again on PostgreSQL (browser tests once).
pytest: $(STAMP)
	env -u DATABASE_URL $(PY) -m pytest -q -n 2 --dist loadgroup -m "not postgres"
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$DATABASE_URL)"; \
	  $(PY) -m pytest -q -n 2 --dist loadgroup -m "not browser"; \
	elif [ -n "$$IIZ_REQUIRE_POSTGRES_TESTS" ]; then \
	  echo "IIZ_REQUIRE_POSTGRES_TESTS is set but DATABASE_URL is not"; exit 1; \
	fi

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) bench/run.py --clients $(BENCH_CLIENTS)

messages: $(STAMP)
	cd iiz && ../$(PY) ../manage.py makemessages -l fr -l it -l en --no-obsolete --no-location && ../$(PY) ../manage.py compilemessages

# pip-tools comes with the dev lock. The header names no index or wheel folder of this machine, so
# the locks read the same wherever they are compiled (pip's own configuration still applies).
LOCK := cd requirements && ../$(PY) -m piptools compile -q --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host
lock: $(STAMP)
	$(LOCK) -o pip.txt pip.in
	$(LOCK) -o main.txt main.in
	$(LOCK) -o dev.txt dev.in

clean:
	rm -rf $(VENV) var
