# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test bench lint typecheck check clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/housing demo --db out/demo.sqlite3

test: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/housing bench --scale S --scale M --seeds 3 --time-limit 60 -o out/bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: lint typecheck test

typecheck: $(STAMP)
	$(BIN)/mypy

# The pages' catalogues: extract every message key from the templates and the code with
# Babel into api/locales/messages.pot, and merge it into the Italian and English catalogues
# (a new key arrives empty: tests/api/test_i18n.py fails until it is translated).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k t -k N_ --no-location --sort-output \
	    --project housing-match --version 1 -o api/locales/messages.pot api
	$(BIN)/pybabel update -i api/locales/messages.pot -d api/locales -D messages \
	    --no-fuzzy-matching --ignore-obsolete -w 100

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
