#!/usr/bin/env bash
# Creates (once) the virtual environment of the template bench with Python's XlsxWriter and prints
# the path of its python. Used by `care-ledger bench template` (src/template/bench.rs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${BENCH_TEMPLATE_VENV:-$root/target/bench-venv-template}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import xlsxwriter" >/dev/null 2>&1; then
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "XlsxWriter==3.2.*" >&2
fi
echo "$venv/bin/python"
