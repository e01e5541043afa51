# The two commands of the README: `make run` and `make test`. Both work on a fresh machine with Python 3.11+.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := scanapp:create_app

.PHONY: run test install install-test lint clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Install again only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Serve HTTPS on :8443 for phones on the store network, with demo data on first run
## (SQLite in instance/ unless DATABASE_URL is set; see gunicorn.conf.py for SCANAPP_PORT, SCANAPP_BIND).
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask tls-cert
	exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## Lint, and every test on SQLite and (with TEST_DATABASE_URL) again on PostgreSQL; the tests run even when
## lint fails, and the exit status is pytest's, or ruff's when the tests pass.
## PYTEST_ARGS passes options on, e.g. make test PYTEST_ARGS='-m "not e2e"'.
test: install-test
	$(BIN)/ruff check . ; lint=$$? ; $(BIN)/python -m pytest $(PYTEST_ARGS) ; tests=$$? ; exit $$(( tests ? tests : lint ))

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

## Benchmark (not part of make test): build a large store (100,000 items, 1,000,000 movements) in a fresh database
## (SQLite, or PostgreSQL with DATABASE_URL), serve it with gunicorn as in production and measure it with wrk
## against the ceiling and the budgets; writes bench/results.json (see bench/README.md). Needs wrk (apt-get install -y wrk).
## BENCH_ARGS passes options on, e.g. make bench BENCH_ARGS='--movements 100000 --items 10000 --lots 500'.
.PHONY: bench
bench: install-test
	$(BIN)/python -m bench.run $(BENCH_ARGS)
