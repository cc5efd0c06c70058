#!/usr/bin/env bash
# One command: install everything the tests need (Debian's chromium included) and run them.
export TANDEM_NEED_CHROMIUM=1
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
uv run ruff check .
exec uv run pytest "$@"
