#!/usr/bin/env sh
# Creates .venv-bench with openpyxl, for the payroll benchmark's Python baseline.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x .venv-bench/bin/python ]; then
    python3 -m venv .venv-bench
fi
.venv-bench/bin/pip install --quiet --disable-pip-version-check "openpyxl>=3.1,<4"
.venv-bench/bin/python -c "import openpyxl; print('openpyxl', openpyxl.__version__, 'in .venv-bench')"
