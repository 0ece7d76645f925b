#!/usr/bin/env bash
# The system packages the tests drive, from Debian's/Ubuntu's archive: redis-server (the Redis
# cache tests start their own on free ports; the package's service on 6379 is not used),
# chromium (the admin-consent page test), openssl (test certificates and HTTPS test servers;
# minimal images lack the command) and python3-azure (Python's azure-identity, a real client of
# the token sidecar). Installs whichever is missing, as root or through
# non-interactive sudo; otherwise prints the one command that installs them and exits 1.
# Used by .ci/run and by `pnpm test`.
set -euo pipefail

missing=()
command -v "${REDIS_SERVER_BIN:-redis-server}" >/dev/null 2>&1 || missing+=(redis-server)
[ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# Python's azure-identity (Debian's python3-azure), a real client of the token sidecar.
"${DAEMON_AUTH_PYTHON:-/usr/bin/python3}" -c 'import azure.identity' >/dev/null 2>&1 || missing+=(python3-azure)
[ "${#missing[@]}" -eq 0 ] && exit 0

script="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "The tests need ${missing[*]} (Debian/Ubuntu packages). Install them with:" >&2
  echo "  sudo bash $script" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need ${missing[*]}; install them with your system's package manager" >&2
  echo "(or point REDIS_SERVER_BIN / CHROMIUM_BIN at existing binaries)." >&2
  exit 1
fi

echo "installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
