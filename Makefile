# Two commands do all the setup on a fresh Debian machine with Python 3.11:
#   make run   virtual environment + install, then the web app at http://127.0.0.1:8000 (SQLite)
#              (--no-proxy-headers: the app believes X-Forwarded-For only from DOSEWISE_TRUSTED_PROXIES)
#   make test  the above + test tools + Debian packages the tests drive, then every check
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
# Debian packages: pango, harfbuzz and DejaVu fonts for WeasyPrint (the PDF report; `make run`
# needs them too); khal (a real calendar client that imports our .ics files); postgresql (the store
# tests start a private server on 127.0.0.1; see tests/postgres.py); poppler-utils (the tests turn
# report pages into PNG and text); chromium (the end-to-end tests drive Debian's browser with
# Playwright: never `playwright install`, which downloads a browser).
RUN_APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
APT_PACKAGES := $(RUN_APT_PACKAGES) khal postgresql poppler-utils chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test check lint typecheck imports pytest bench system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: $(BIN)/python requirements/run.txt pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/run.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m compileall -q src  # bytecode even where PYTHONDONTWRITEBYTECODE is set
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements/dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

system-deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

run: $(VENV)/.run-installed
	@$(MAKE) --no-print-directory system-deps APT_PACKAGES="$(RUN_APT_PACKAGES)"
	@echo "Dosewise at http://127.0.0.1:8000 (SQLite; DOSEWISE_DATABASE_URL to change). Ctrl-C stops it."
	DOSEWISE_ENV=$${DOSEWISE_ENV:-development} $(BIN)/uvicorn --factory dosewise.web.app:app_from_environment \
	  --host 127.0.0.1 --port 8000 --no-proxy-headers --no-server-header

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

imports: $(VENV)/.dev-installed
	$(BIN)/lint-imports

# DOSEWISE_REQUIRE_ALL: a missing PostgreSQL or Chromium fails the run (locally it is a skip)
pytest: system-deps $(VENV)/.dev-installed
	DOSEWISE_REQUIRE_ALL=1 $(BIN)/pytest -n auto -q

test: lint typecheck imports pytest

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/cli_startup.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
