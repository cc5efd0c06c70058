#!/usr/bin/env bash
# One command: install everything the tests need (Debian's chromium included) and run them.
export TANDEM_NEED_CHROMIUM=1
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
# The login test's OpenID Connect provider (tests/oidc: npm's oidc-provider, pinned in its package-lock.json).
if ! command -v npm >/dev/null 2>&1; then
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null \
    || { echo "error: the login test needs node and npm and this user cannot install them: apt-get install nodejs npm" >&2; exit 1; }
fi
(cd tests/oidc && npm ci --no-audit --no-fund --silent)
uv run ruff check .
exec uv run pytest -m "" "$@"  # every test: the default run (pyproject addopts) is only the fast ones
