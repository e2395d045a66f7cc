#!/usr/bin/env bash
# Installs the system packages the test suite uses, when missing. Nothing else installs by hand.
set -euo pipefail
# (LibreOffice for the template recalculation test is added with the template export.)
exit 0
