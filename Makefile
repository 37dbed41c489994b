# Two commands for a fresh machine: `make demo` runs the bot, `make test` runs the tests.
# Each does its own set-up: virtual environment, install, migrations.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test run migrate clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $(STAMP)

demo: $(STAMP)  ## the bot on SQLite + fake LINE server + chat simulator at http://127.0.0.1:8000/simulator
	$(PY) -m bot.dev.demo

test: $(STAMP)  ## the suite on SQLite, then on PostgreSQL (TEST_DATABASE_URL, default 127.0.0.1:5432/test)
	bash .ci/test-suite

migrate: $(STAMP)
	APP_ENV=$${APP_ENV:-development} $(VENV)/bin/flask --app bot db upgrade

run: $(STAMP)
	APP_ENV=$${APP_ENV:-development} $(VENV)/bin/gunicorn 'bot:create_app()' --bind 127.0.0.1:8000

clean:
	rm -rf $(VENV) instance artifacts .pytest_cache
