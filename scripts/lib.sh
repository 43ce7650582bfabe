# Shared helpers for scripts/*.sh. Source it; it does nothing on its own.
# shellcheck shell=bash

# The repository root, whatever the caller's working directory.
KEYPORT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KEYPORT_ROOT

# cargo, rustup and wasm-bindgen live in ~/.cargo/bin even when a login shell did not add it.
case ":${PATH}:" in
  *":${HOME}/.cargo/bin:"*) ;;
  *) export PATH="${HOME}/.cargo/bin:${PATH}" ;;
esac

log() { printf '%s\n' "$*" >&2; }
ok() { printf 'ok: %s\n' "$*"; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ ${EUID} -eq 0 ]]; then
    "$@"
  elif have sudo; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# apt-get install without questions; `apt-get update` first, once per script run.
APT_UPDATED=0
apt_install() {
  have apt-get || die "apt-get not found; install by hand: $*"
  if [[ ${APT_UPDATED} -eq 0 ]]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
free_port() {
  if have python3; then
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
  elif have node; then
    node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
  else
    die "need python3 or node to find a free port"
  fi
}

# The version of a package pinned in Cargo.lock (first match), e.g. `lock_version wasm-bindgen`.
lock_version() {
  awk -v want="$1" '
    /^\[\[package\]\]/ { in_pkg = 0 }
    $0 == "name = \"" want "\"" { in_pkg = 1; next }
    in_pkg && /^version = / { gsub(/"/, "", $3); print $3; exit }
  ' "${KEYPORT_ROOT}/Cargo.lock"
}

# Installed wasm-bindgen CLI version ("" when absent).
wasm_bindgen_cli_version() {
  if have wasm-bindgen; then
    wasm-bindgen --version 2>/dev/null | awk '{ print $2; exit }'
  fi
}

# The directory holding PostgreSQL's server and client programs (initdb, pg_ctl, createdb,
# psql): initdb's real directory when it is on PATH (/usr/local/bin/initdb may be a symlink),
# else Debian's /usr/lib/postgresql/<version>/bin, preferring 15. Fails when there is none.
pg_bindir() {
  local dir
  if have initdb; then
    dir="$(dirname "$(readlink -f "$(command -v initdb)")")"
    if [[ -x ${dir}/pg_ctl ]]; then
      printf '%s\n' "${dir}"
      return 0
    fi
  fi
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [[ -x ${dir}/initdb && -x ${dir}/pg_ctl ]]; then
      printf '%s\n' "${dir}"
      return 0
    fi
  done
  return 1
}
