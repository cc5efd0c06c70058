# Shared by start.sh and test.sh: install uv, the locked dependencies and Debian's chromium (snapshots,
# browser tests), nothing more. Set TANDEM_NEED_CHROMIUM=1 to fail when chromium cannot be installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export UV_PYTHON_DOWNLOADS=never PIP_ROOT_USER_ACTION=ignore

as_root() {  # run a command as root: directly, or through password-less sudo; fail otherwise
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1; fi
}

if ! command -v uv >/dev/null 2>&1; then
  if ! python3 -m pip --version >/dev/null 2>&1; then  # Debian's python3 comes without pip
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
  fi
  # A plain install works in a venv or pyenv; Debian's own python3 is "externally managed": install for
  # this user only, which is what that marker is about.
  python3 -m pip install --quiet "uv==0.13.8" 2>/dev/null \
    || python3 -m pip install --quiet --user "uv==0.13.8" 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages "uv==0.13.8"
  PATH="$(python3 -m site --user-base)/bin:$PATH"
  export PATH
fi
uv sync --frozen --quiet --compile-bytecode  # startup: imports read bytecode instead of compiling ~1000 modules

if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then  # pdftoppm: pack tests
  if ! (as_root apt-get update -qq \
        && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core poppler-utils) >/dev/null; then
    if [ "${TANDEM_NEED_CHROMIUM:-0}" = 1 ]; then
      echo "error: the tests need Debian's chromium and this user cannot install it: apt-get install chromium" >&2
      exit 1
    fi
    echo "note: chromium is not installed (apt-get install chromium): chart snapshots need it" >&2
  fi
fi
