# The README's commands. Everything runs from a local virtualenv in .venv/.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test bench install install-dev secret migrate demo static messages lint clean audit

$(VENV)/bin/activate:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -q -e '.[postgres,redis]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -q -e '.[postgres,redis,dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The embedded setup keeps one generated secret in var/ (never committed).
var/secret_key:
	@mkdir -p var
	@$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	@chmod 600 $@

secret: var/secret_key

RUN_ENV = DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat var/secret_key)}"

messages: install
	$(RUN_ENV) $(PY) manage.py compilemessages -v0 --ignore=.venv 2>/dev/null || true

migrate: install secret
	$(RUN_ENV) $(PY) manage.py migrate --noinput -v1

demo: migrate
	$(RUN_ENV) $(PY) manage.py seed_demo

static: install secret
	$(RUN_ENV) $(PY) manage.py collectstatic --noinput -v0

# gunicorn and the task worker (demo photos, rebuilds, analytics) together;
# Ctrl-C stops both. TASK_WORKERS=2 make run renders photos faster.
run: install secret messages migrate
	@# The demo catalog and the static files do not depend on each other.
	@$(MAKE) --no-print-directory -j2 demo static
	@echo "Serving the shop on http://127.0.0.1:$(PORT)/  (admin: /admin/); task worker beside it"
	$(RUN_ENV) PORT=$(PORT) $(PY) scripts/serve.py

test: install-dev
	bash scripts/test.sh

bench: install-dev secret
	bash bench/run.sh

# Known vulnerabilities in what is installed (docs/SECURITY.md); fails when the
# vulnerability service could not check every package.
audit: install-dev
	bash scripts/audit.sh

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache
