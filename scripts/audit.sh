#!/usr/bin/env bash
# `make audit`: known vulnerabilities in every package installed in the
# virtualenv (pip-audit, PyPI's vulnerability data by default; set
# AUDIT_SERVICE=osv for OSV). An audit that could not check every package is a
# failure, never a pass: pip-audit alone prints "No known vulnerabilities
# found" even when the service was unreachable and nothing was checked.
# Writes var/audit/: the frozen package list and pip-audit's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
OUT=var/audit
mkdir -p "$OUT"
"$VENV/bin/pip" freeze --exclude-editable > "$OUT/requirements-audited.txt"
"$VENV/bin/pip-audit" --progress-spinner off --skip-editable --desc \
    --vulnerability-service "${AUDIT_SERVICE:-pypi}" -f json -o "$OUT/pip-audit.json"
status=$?
"$VENV/bin/python" - "$OUT/pip-audit.json" "$status" <<'PY'
import json
import sys

path, status = sys.argv[1], int(sys.argv[2])
try:
    report = json.load(open(path))
except (OSError, ValueError):
    print(f"audit failed: pip-audit wrote no report (exit {status})", file=sys.stderr)
    sys.exit(2)
deps = report["dependencies"]
skipped = [d for d in deps if "skip_reason" in d]
vulnerable = [d for d in deps if d.get("vulns")]
for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
        print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
print(f"{len(deps)} packages: {len(deps) - len(skipped)} checked, {len(skipped)} not checked, "
      f"{len(vulnerable)} with known vulnerabilities")
if vulnerable:
    sys.exit(1)
if skipped:
    print("audit INCOMPLETE: the vulnerability service did not answer for "
          f"{len(skipped)} packages (first: {skipped[0]['skip_reason']}).\n"
          "Run `make audit` where pypi.org's JSON API (or api.osv.dev with "
          "AUDIT_SERVICE=osv) is reachable, or audit the frozen list there: "
          f"pip-audit -r {path.rsplit('/', 1)[0]}/requirements-audited.txt", file=sys.stderr)
    sys.exit(3)
PY
