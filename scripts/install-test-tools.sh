#!/usr/bin/env bash
# Installs the system packages the test suite uses, when missing. Nothing else installs by hand.
# - LibreOffice Calc (headless), for the template recalculation test (tests/template_libreoffice.rs);
# - openapi-spec-validator (PyPI, in target/test-tools-venv), for the OpenAPI document test
#   (tests/http_api.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

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
if [ ! -x target/test-tools-venv/bin/openapi-spec-validator ]; then
    echo "install-test-tools: installing openapi-spec-validator in target/test-tools-venv" >&2
    # A failed install must not fail CI: the validation step then skips with a message.
    if ! { python3 -m venv target/test-tools-venv >/dev/null \
        && target/test-tools-venv/bin/pip install --quiet --disable-pip-version-check \
            "openapi-spec-validator>=0.7,<1" >/dev/null; }; then
        echo "install-test-tools: could not install openapi-spec-validator; the OpenAPI validation will be skipped" >&2
    fi
fi
exit 0
