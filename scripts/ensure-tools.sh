#!/usr/bin/env bash
# Installs what building and testing Keyport need, skipping whatever is already there, so a
# second run takes a second or two.
#
#   scripts/ensure-tools.sh              wasm32 target, wasm-bindgen CLI (= Cargo.lock's version)
#   scripts/ensure-tools.sh --browser    + Chromium (apt), curl, end2end/node_modules (npm)
#   scripts/ensure-tools.sh --postgres   + PostgreSQL 15 server binaries (apt)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

want_browser=0
want_postgres=0
for arg in "$@"; do
  case "${arg}" in
    --browser) want_browser=1 ;;
    --postgres) want_postgres=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die "unknown argument: ${arg}"
      ;;
  esac
done

# --- Rust -------------------------------------------------------------------------------
if ! have cargo || ! have rustup; then
  die "cargo/rustup not found (expected in ~/.cargo/bin); install Rust with rustup"
fi

if ! have cc; then
  apt_install gcc libc6-dev
fi
ok "C linker ($(command -v cc))"

if rustup target list --installed | grep -qx 'wasm32-unknown-unknown'; then
  ok "rust target wasm32-unknown-unknown"
else
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
  ok "rust target wasm32-unknown-unknown (installed)"
fi

# The CLI must equal the wasm-bindgen crate the islands link, or it refuses the .wasm file.
want_wb="$(lock_version wasm-bindgen)"
[[ -n ${want_wb} ]] || die "no wasm-bindgen package in Cargo.lock"
have_wb="$(wasm_bindgen_cli_version)"
if [[ ${have_wb} == "${want_wb}" ]]; then
  ok "wasm-bindgen ${want_wb}"
else
  log "installing wasm-bindgen-cli ${want_wb} (found: ${have_wb:-none}); this compiles for a few minutes"
  cargo install wasm-bindgen-cli --version "${want_wb}" --force
  hash -r
  have_wb="$(wasm_bindgen_cli_version)"
  [[ ${have_wb} == "${want_wb}" ]] ||
    die "wasm-bindgen on PATH ($(command -v wasm-bindgen || true)) is ${have_wb:-missing}, want ${want_wb}; is an older one earlier on PATH?"
  ok "wasm-bindgen ${want_wb} (installed)"
fi

# --- Browser tests ----------------------------------------------------------------------
if [[ ${want_browser} -eq 1 ]]; then
  if [[ -x /usr/bin/chromium ]]; then
    ok "chromium ($(/usr/bin/chromium --version 2>/dev/null | head -n1 || echo 'version unknown'))"
  else
    apt_install chromium
    [[ -x /usr/bin/chromium ]] || die "apt installed chromium but /usr/bin/chromium is missing"
    ok "chromium (installed)"
  fi

  if have curl; then
    ok "curl"
  else
    apt_install curl ca-certificates
    ok "curl (installed)"
  fi

  if ! have node || ! have npm; then
    apt_install nodejs npm
  fi
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  [[ ${node_major} -ge 20 ]] || die "node $(node --version) is too old; the end-to-end specs need node >= 20"
  ok "node $(node --version)"

  # Reinstall when node_modules is missing or package.json / package-lock.json changed.
  e2e="${KEYPORT_ROOT}/end2end"
  stamp="${e2e}/node_modules/.keyport-install-stamp"
  want_stamp="$(cat "${e2e}/package.json" "${e2e}/package-lock.json" 2>/dev/null | sha256sum | awk '{ print $1 }')"
  if [[ -d ${e2e}/node_modules/playwright-core && -f ${stamp} && "$(cat "${stamp}")" == "${want_stamp}" ]]; then
    ok "end2end/node_modules"
  else
    # playwright-core never downloads browsers, but say so in case a dependency would.
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    if [[ -f ${e2e}/package-lock.json ]]; then
      log "npm ci (end2end)"
      (cd "${e2e}" && npm ci --no-audit --no-fund --loglevel=error)
    else
      log "npm install (end2end)"
      (cd "${e2e}" && npm install --no-audit --no-fund --loglevel=error)
      want_stamp="$(cat "${e2e}/package.json" "${e2e}/package-lock.json" | sha256sum | awk '{ print $1 }')"
    fi
    printf '%s\n' "${want_stamp}" >"${stamp}"
    ok "end2end/node_modules (installed)"
  fi
fi

# --- PostgreSQL (integration tests on a throwaway cluster) -----------------------------
if [[ ${want_postgres} -eq 1 ]]; then
  pg_bin="$(pg_bindir || true)"
  if [[ -z ${pg_bin} ]]; then
    # Debian's postinst would create and start a "main" cluster; we only want the binaries.
    if [[ ! -e /etc/postgresql-common/createcluster.d/keyport.conf ]]; then
      as_root mkdir -p /etc/postgresql-common/createcluster.d
      printf 'create_main_cluster = false\n' |
        as_root tee /etc/postgresql-common/createcluster.d/keyport.conf >/dev/null
    fi
    apt_install postgresql-15 postgresql-client-15
    pg_bin="$(pg_bindir)" || die "postgresql-15 installed but no initdb found"
  fi
  ok "postgresql $("${pg_bin}/initdb" --version | awk '{ print $3 }') (${pg_bin})"
fi
