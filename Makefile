# The two commands a user needs: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed

.PHONY: install demo test lint typecheck bench clean

install: $(STAMP) $(WEB_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# three.js and uPlot for the dashboard come from npm, locked by package-lock.json.
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

demo: install
	$(BIN)/twinsync demo

# Two workers: the suite's budget is ten minutes on two cores, and it uses both.
test: install
	$(BIN)/python -m pytest -q -n 2

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) web/node_modules .twinsync
