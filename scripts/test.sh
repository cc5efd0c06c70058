#!/usr/bin/env bash
# One command: install everything the tests need (Debian's chromium included) and run them.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core) >/dev/null
  else
    echo "note: chromium is not installed; browser tests will be skipped (apt-get install chromium)" >&2
  fi
fi
uv run ruff check .
exec uv run pytest "$@"
