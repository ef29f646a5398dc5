"""The ground floor: pieces every app uses and that know no domain app.

Database helpers and the read-replica router, CSV dataset reading, the REST
API's plumbing (errors, pagination, throttles, parsers, schema hooks),
observability, security headers, error pages, backups, the content cache,
background tasks (tasks.py: enqueue, retries, the schedule, workers) and the
operator's health checks. Nothing here imports catalog, personalization,
orders, analytics or storefront (import-linter checks it: pyproject.toml).
"""
