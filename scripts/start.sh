#!/usr/bin/env bash
# One command: install everything, load the demo data (first run only) and open the dashboard.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
if [ ! -f "${TANDEM_DB:-data/tandem.duckdb}" ]; then
  uv run tandem demo
fi
exec uv run tandem serve --server.headless true "$@"
