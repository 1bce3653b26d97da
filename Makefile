# commonhub: `make run` serves a development hub, `make test` runs the whole suite.
# Needs only Python 3.11+ with venv and pip; Node for the interop peer comes from PyPI.

PYTHON ?= python3
VENV ?= .venv
HUB_HOME ?= var/hub
PORT ?= 8080
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install interop-deps browser-deps hub lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# A development hub in ./var/hub, created once.
hub: $(HUB_HOME)/commonhub.toml

$(HUB_HOME)/commonhub.toml: | $(STAMP)
	$(BIN)/commonhub init --home $(HUB_HOME) --domain 127.0.0.1:$(PORT) --name hub \
		--display-name "Our community hub" --summary "A commonhub development hub" --dev

run: install hub
	COMMONHUB_DOMAIN=127.0.0.1:$(PORT) $(BIN)/commonhub serve --home $(HUB_HOME) --port $(PORT)

interop-deps: install
	bash scripts/interop-deps.sh $(VENV)

# Debian's Chromium for the browser tests (installed with apt when missing; needs root).
browser-deps:
	bash scripts/browser-deps.sh

test: install hub interop-deps browser-deps
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) tests/interop/fedify/node_modules .pytest_cache
