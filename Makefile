# SRM build, run and test entry points. `make help` lists them.
#
#   make run     migrate, seed the demo data, then web + Celery worker + beat (Ctrl-C stops all)
#   make test    the whole test suite (CI: .ci/run starts PostgreSQL/Redis, then calls this)
#   make bench   the benchmarks (bench/ package)
#   make lint    ruff, then the import contract (lint-imports; the layers of docs/architecture.md)
#   make openapi regenerate docs/openapi.yaml from the code (commit it with the API change)
#
# Nothing here needs a server: with no DATABASE_URL / CELERY_BROKER_URL set, SRM runs on a
# SQLite file and Celery's filesystem broker under var/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Python >= 3.11 for the virtualenv: the first of these that exists.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# What running needs (make run), and what the tests need on top of it (make test, lint, ...).
BASE_STAMP := $(VENV)/.installed-base
VENV_STAMP := $(VENV)/.installed

VENDOR_DIR := static/vendor
ASSETS_STAMP := $(VENDOR_DIR)/.installed
CHROMIUM := /usr/bin/chromium

# sudo only when not root (CI and the dev machines run as root).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help venv assets browsers mailservers directory run test bench lint openapi messages clean distclean

help:
	@echo "SRM make targets:"
	@echo "  run        migrate + seed demo data, then web (http://127.0.0.1:8000; PORT=, DEBUG=1), worker, beat"
	@echo "  test       run the whole test suite (pytest)"
	@echo "  bench      run the benchmarks (python -m bench)"
	@echo "  lint       ruff check and the import contract (lint-imports)"
	@echo "  openapi    regenerate docs/openapi.yaml (the API contract; a test checks it is current)"
	@echo "  messages   collect the German strings into the locale/ catalogs and compile them"
	@echo "  venv       create .venv and install requirements/*.txt (only when they changed; run needs base.txt only)"
	@echo "  assets     npm ci and copy htmx / Chart.js / Pico into static/vendor/"
	@echo "  browsers   install Debian chromium at $(CHROMIUM) if missing (browser tests)"
	@echo "  mailservers install Debian dovecot-imapd if missing (the IMAP tests start their own)"
	@echo "  directory  install Debian slapd and ldap-utils if missing (the LDAP tests start their own)"
	@echo "  clean      remove node_modules, static/vendor, caches, test artefacts, var/static"
	@echo "  distclean  clean + remove .venv and var/ (the embedded SQLite database)"

# --- Python virtualenv ---------------------------------------------------------------------------
venv: $(VENV_STAMP)

$(BASE_STAMP): requirements/base.txt
	@if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	  if [ -z "$(PYTHON)" ] || ! "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
	    echo "error: SRM needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; \
	  fi; \
	  echo "Creating $(VENV) with $(PYTHON)"; \
	  rm -rf $(VENV); \
	  "$(PYTHON)" -m venv $(VENV); \
	fi
	@# python-ldap (django-auth-ldap) compiles against OpenLDAP's and SASL's headers.
	@if [ ! -f /usr/include/ldap.h ] || [ ! -f /usr/include/sasl/sasl.h ]; then \
	  echo "Installing Debian libldap2-dev and libsasl2-dev (to build python-ldap)"; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    gcc libldap2-dev libsasl2-dev >/dev/null; \
	fi
	@echo "Installing requirements/base.txt into $(VENV)"
	@$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements/base.txt
	@touch $@

$(VENV_STAMP): $(BASE_STAMP) requirements/test.txt
	$(BIN)/python -m pip install --disable-pip-version-check --quiet \
	  -r requirements/base.txt -r requirements/test.txt
	@touch $@

# --- Front-end assets (vendored, never from a CDN) -----------------------------------------------
assets: $(ASSETS_STAMP)

$(ASSETS_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	npm run --silent vendor
	@touch $@

# --- Browser for the Playwright tests ------------------------------------------------------------
browsers:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing Debian chromium ($(CHROMIUM))"; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium fonts-liberation >/dev/null; \
	  $(CHROMIUM) --version; \
	fi

# --- Mail servers for the e-mail reply tests ---------------------------------------------------
# The tests start their own dovecot on a loopback port with a temporary configuration; the
# package's own service stays stopped (the tests never use it).
DOVECOT := /usr/sbin/dovecot
mailservers:
	@if [ ! -x $(DOVECOT) ]; then \
	  echo "Installing Debian dovecot-imapd ($(DOVECOT))"; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    dovecot-imapd >/dev/null; \
	  $(DOVECOT) --version; \
	fi

# --- A directory server for the LDAP sign-in tests -----------------------------------------------
# The tests start their own slapd on a loopback port with a temporary configuration and the test
# directory (tests/identity/); the package's own service stays stopped (the tests never use it).
SLAPD := /usr/sbin/slapd
directory:
	@if [ ! -x $(SLAPD) ]; then \
	  echo "Installing Debian slapd and ldap-utils ($(SLAPD))"; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    slapd ldap-utils >/dev/null; \
	  $(SLAPD) -VV 2>&1 | head -1; \
	fi

# --- Run the product locally ---------------------------------------------------------------------
# PORT=8001 make run: another port. DEBUG=1 make run: Django's debug pages, code reloading.
# Plain HTTP on 127.0.0.1 (HTTPS=0); static files served by whitenoise from var/static/.
PORT ?= 8000
DEBUG ?= 0
DEMO_REQUESTS ?= 300
STATIC_STAMP := var/static/staticfiles.json

run: export PORT := $(PORT)
run: export DEBUG := $(DEBUG)
run: export HTTPS := 0
run: export SRM_BASE_URL := http://127.0.0.1:$(PORT)
run: export GUNICORN_CMD_ARGS := $(if $(filter 1,$(DEBUG)),--reload,)
run: export PATH := $(CURDIR)/$(BIN):$(PATH)
run: $(BASE_STAMP) assets $(STATIC_STAMP)
	@echo "Preparing the database (migrations, demo data)..."
	@$(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(BIN)/python manage.py seed_demo --no-logins --requests $(DEMO_REQUESTS)
	@$(BIN)/python scripts/run.py

# Static files with their hashed names, collected again only when one of them changed.
$(STATIC_STAMP): $(ASSETS_STAMP) $(shell find static -type f -not -name '.*' 2>/dev/null)
	@echo "Collecting static files into var/static/"
	@DEBUG=0 $(BIN)/python manage.py collectstatic --noinput --clear --verbosity 0

# --- Tests, benchmarks, lint ---------------------------------------------------------------------
test: venv assets browsers mailservers directory
	$(BIN)/pytest $(PYTEST_ARGS)

# PostgreSQL started like CI does; wrk (the HTTP load driver) from Debian when missing.
# BENCH_ARGS: --quick (small data, a few minutes), --only NAME,..., --sizes 100000,1000000.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/srm_bench
bench: export BENCH_DATABASE_URL := $(BENCH_DATABASE_URL)
bench: venv
	bash .ci/run --services-only
	@if ! command -v wrk >/dev/null 2>&1; then \
	  echo "Installing Debian wrk"; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    wrk >/dev/null; \
	fi
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

openapi: venv
	$(BIN)/python manage.py spectacular --file docs/openapi.yaml --validate --fail-on-warn

# Each file's strings go to the nearest locale/ (an app's own catalog, else the root one for
# templates/, srm/ and kit/); the compiled .mo files are committed, so make run needs no gettext.
MESSAGES_IGNORE = --ignore=.venv --ignore=node_modules --ignore=static --ignore=var --ignore=tests
messages: venv
	$(BIN)/python manage.py makemessages -l de $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages -l de $(MESSAGES_IGNORE)

# --- Cleaning ------------------------------------------------------------------------------------
clean:
	rm -rf node_modules $(VENDOR_DIR) var/static .pytest_cache .ruff_cache test-artifacts
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) var
