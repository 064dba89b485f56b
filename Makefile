# The two commands a newcomer needs: `make run` and `make test`. Everything they need is
# installed from here: Debian packages, the virtualenv, migrations, demo data.
PYTHON_SYS ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PORT ?= 5000
STAMP := $(VENV)/.installed
# What the app itself needs (the Chinese font WeasyPrint embeds in the sign-in sheets) and what
# only the tests need (a browser, pdftotext to read the PDFs back).
RUN_DEB_PACKAGES := fonts-wqy-microhei
TEST_DEB_PACKAGES := chromium poppler-utils

.PHONY: run test lint format bench translations deps system-deps run-system-deps clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

deps: $(STAMP) compile-translations

# Debian packages, installed only when missing so repeated runs cost nothing; the machine runs
# as root (sudo is used when it is not). `make run` needs the font for the printed sheets,
# `make test` also the browser for the end-to-end tests and poppler's pdftotext.
define install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

run-system-deps:
	$(call install_missing,$(RUN_DEB_PACKAGES))

system-deps:
	$(call install_missing,$(RUN_DEB_PACKAGES) $(TEST_DEB_PACKAGES))

compile-translations: $(STAMP)
	$(VENV)/bin/pybabel -q compile -d scheduler/translations

run: deps run-system-deps
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@$(FLASK) demo-logins
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: deps system-deps
	$(PY) -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

translations: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _lp:1c,2 -k lazy_pgettext:1c,2 -o scheduler/translations/messages.pot .
	$(VENV)/bin/pybabel update -i scheduler/translations/messages.pot -d scheduler/translations --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d scheduler/translations

bench: $(STAMP)
	$(PY) -m benchmarks.curtois --time-limit 60 --workers 2 --json bench-curtois.json
	$(PY) -m benchmarks.scenario --size L --seed 1 --time-limit 60 --json bench-scenario-L.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
