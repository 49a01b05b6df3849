# The two commands a newcomer needs: `make run` and `make test`. Both set everything up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DOCBRIDGE_HOST ?= 127.0.0.1
DOCBRIDGE_PORT ?= 8080
export DOCBRIDGE_HOST DOCBRIDGE_PORT

.PHONY: run test lint bench bench-storage bench-wopi bench-onlyoffice bench-compare clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

## Start Docbridge with gunicorn on http://$(DOCBRIDGE_HOST):$(DOCBRIDGE_PORT) (data in ./data).
run: $(VENV)/.runtime-installed
	DOCBRIDGE_PUBLIC_URL=$${DOCBRIDGE_PUBLIC_URL:-http://$(DOCBRIDGE_HOST):$(DOCBRIDGE_PORT)} \
	  exec $(VENV)/bin/gunicorn -c gunicorn.conf.py 'app:create_app()'

## Install what the tests need (PostgreSQL, Chromium, nginx, wrk) and run the whole suite.
test: $(VENV)/.dev-installed
	bash scripts/install-test-deps.sh
	$(PY) -m pytest -q

## Storage benchmark: 1 MiB and 1 GiB uploads/downloads against gunicorn on 127.0.0.1 (see docs/benchmarks.md).
bench-storage: $(VENV)/.dev-installed
	bash scripts/install-test-deps.sh
	$(PY) -m bench.storage_bench
	$(PY) -m bench.storage_bench --backend webdav

## WOPI benchmark: CheckFileInfo, GetFile, PutFile under wrk (see docs/benchmarks.md).
bench-wopi: $(VENV)/.dev-installed
	bash scripts/install-test-deps.sh
	$(PY) -m bench.wopi_bench --markdown

## ONLYOFFICE benchmark: callback save of 100 MiB against a plain download; open latency.
bench-onlyoffice: $(VENV)/.dev-installed
	$(PY) -m bench.onlyoffice_bench

## Docbridge against the machine's limits (bare Flask, durable PUT, nginx), on SQLite and PostgreSQL; writes docs/benchmarks.md. Not part of `bench`: it takes about 20 minutes.
bench-compare: $(VENV)/.dev-installed
	bash scripts/install-test-deps.sh
	$(PY) -m bench.compare --write

## Every benchmark, one after the other.
bench: bench-storage bench-wopi bench-onlyoffice

## ruff and mypy --strict (also run as part of make test).
lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache
