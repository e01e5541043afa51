# The two commands of the README: `make run` and `make test`. Both work on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := scanapp:create_app

.PHONY: run test install install-test lint migrate-check bench clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/activate
	$(BIN)/pip install -q -e .

install-test: $(BIN)/activate
	$(BIN)/pip install -q -e '.[test]'

## Serve the app over HTTPS on :8443 with demo data on first run (SQLite in instance/ unless DATABASE_URL is set).
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask tls-cert
	exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## Every test, on SQLite and (with TEST_DATABASE_URL) again on PostgreSQL.
test: install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
