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
# Spark's tests (marker `spark`: the lake on Spark, pandera's PySpark checks) run on Java 17 or 21: Debian's
# default JRE where none is installed (bookworm's is 17, trixie's 21). The man folder: slim images lack it and
# the JRE's post-install step fails without it.
java_major() { java -version 2>&1 | sed -n 's/.*version "\(1\.\)\{0,1\}\([0-9]*\).*/\2/p' | head -1; }
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ] 2>/dev/null || [ -z "$(java_major)" ]; then
  (as_root mkdir -p /usr/share/man/man1 && as_root apt-get update -qq \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null) \
    || { echo "error: the Spark tests need Java 17 or 21 and this user cannot install it: apt-get install default-jre-headless" >&2; exit 1; }
fi
uv run ruff check .
exec uv run pytest -m "" "$@"  # every test: the default run (pyproject addopts) is only the fast ones
