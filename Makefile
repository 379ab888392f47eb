# VoltDesk: `make demo` and `make test` are all a developer needs (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= il
CUSTOMERS ?= 2000
SEED ?= 42
DEMO_DB ?= var/demo.sqlite3
BENCH_SCALE ?= small

# Debian packages: gettext for the catalogue check, Redis for the Celery worker test,
# Chromium for the browser tests (Playwright drives Debian's build; no browser download),
# fonts for PDFs, PostgreSQL for test-postgres.
TEST_DEBS := gettext:xgettext redis-server:redis-server chromium:/usr/bin/chromium fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
PG_DEBS := postgresql:/usr/lib/postgresql

.PHONY: install demo test test-postgres bench lint format messages

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "VoltDesk needs Python 3.11, found " + sys.version' \
		|| { echo "Install Python 3.11 (Debian 12: apt-get install python3 python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

# The demo writes e-mails to var/mail instead of an SMTP server, and SMS go to the simulator.
DEMO_ENV := DATABASE_URL=sqlite:///$(abspath $(DEMO_DB)) VOLTDESK_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend

demo: install
	@scripts/system-deps.sh fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
	mkdir -p var
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(DEMO_ENV) $(BIN)/voltdesk seed_demo --profile $(PROFILE) --customers $(CUSTOMERS) --seed $(SEED)
	$(DEMO_ENV) $(BIN)/voltdesk collectstatic --noinput -v 0
	$(DEMO_ENV) $(BIN)/voltdesk demo_logins
	@echo "Serving VoltDesk on http://127.0.0.1:8000 (Ctrl-C stops it)"
	$(DEMO_ENV) $(BIN)/gunicorn voltdesk.wsgi -b 127.0.0.1:8000 -w 2 --access-logfile -

test: install
	@scripts/system-deps.sh $(TEST_DEBS)
	$(BIN)/pytest

test-postgres: install
	@scripts/system-deps.sh $(TEST_DEBS) $(PG_DEBS)
	scripts/with-postgres.sh $(BIN)/pytest

bench: install
	@scripts/system-deps.sh $(PG_DEBS)
	scripts/with-postgres.sh $(BIN)/python -m bench --scale $(BENCH_SCALE)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refresh the he and zh-hans catalogues after changing user-facing text.
messages: install
	cd src/voltdesk && ../../$(BIN)/voltdesk makemessages -l he -l zh_Hans --no-obsolete -i 'static/*'
	cd src/voltdesk && ../../$(BIN)/voltdesk compilemessages -l he -l zh_Hans
