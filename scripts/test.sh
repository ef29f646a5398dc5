#!/usr/bin/env bash
# Run the whole suite from the project's virtualenv. Called by `make test`.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export DJANGO_DEBUG=${DJANGO_DEBUG:-0}
# Tasks run in the caller unless a test picks an engine (tests/core/): a photo
# saved in a test has its variants when the call returns.
export TASKS_BACKEND=${TASKS_BACKEND:-immediate}
# Feed impressions written in the request, so a test sees them when its GET
# returns (tests/personalization/test_impressions.py covers the writer thread).
export SHOP_IMPRESSIONS_FLUSH_SECONDS=${SHOP_IMPRESSIONS_FLUSH_SECONDS:-0}
# Close database connections after each request: live-server threads would
# otherwise keep PostgreSQL sessions open and block dropping the test database.
export DATABASE_CONN_MAX_AGE=${DATABASE_CONN_MAX_AGE:-0}
# Static files straight from static/: no collectstatic needed before the suite.
export SHOP_PLAIN_STATIC=${SHOP_PLAIN_STATIC:-1}
# Tests need a key but must never use a real one.
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-test-only-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
# The layers first: an import from a lower layer into a higher one fails the
# run before any test does (contracts in pyproject.toml, docs/ARCHITECTURE.md).
"$VENV/bin/lint-imports" --no-cache >/dev/null || { "$VENV/bin/lint-imports" --no-cache; exit 1; }
"$VENV/bin/python" manage.py compilemessages -v0 --ignore=.venv >/dev/null 2>&1 || true
"$VENV/bin/python" -m pytest "$@"
status=$?
# pytest exits 5 when it collected no tests: that is a broken suite, not a pass.
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing on purpose" >&2
    exit 1
fi
exit "$status"
