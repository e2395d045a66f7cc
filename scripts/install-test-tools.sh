#!/usr/bin/env bash
# Installs the system packages the test suite uses, when missing. Nothing else installs by hand.
# - LibreOffice Calc (headless), for the template recalculation test (tests/template_libreoffice.rs).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if ! have soffice && ! have libreoffice; then
    if [ "$(id -u)" = "0" ] && have apt-get; then
        echo "install-test-tools: installing libreoffice-calc-nogui" >&2
        export DEBIAN_FRONTEND=noninteractive
        # A failed install must not fail CI: the recalculation test then skips with a message.
        if ! { apt-get update -qq >/dev/null \
            && apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null; }; then
            echo "install-test-tools: could not install libreoffice-calc-nogui; the recalculation test will be skipped" >&2
        fi
    else
        echo "install-test-tools: LibreOffice absent and not root: the recalculation test will be skipped" >&2
    fi
fi
exit 0
