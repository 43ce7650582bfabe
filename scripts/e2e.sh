#!/usr/bin/env bash
# End-to-end specs: starts an SMTP sink (end2end/smtp-sink.mjs) and the release server on free
# ports with a fresh SQLite data dir, the server mailing to the sink; waits for /readyz, runs
# end2end/tests/*.test.mjs in Chromium (E2E_MAIL_DIR: where the sink writes each message),
# then stops everything.
#
#   scripts/e2e.sh [spec files] [extra `node --test` arguments, e.g. --test-name-pattern=password]
#
# Spec files (end2end/tests/NAME.test.mjs) given run alone; without any, every spec runs.
#
# Needs scripts/build.sh and scripts/ensure-tools.sh --browser to have run (make e2e does both).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${KEYPORT_ROOT}"

server_bin=target/release/keyport
[[ -x ${server_bin} ]] || die "${server_bin} is missing; run scripts/build.sh (make build)"
for f in target/site/pkg/keyport.js target/site/pkg/keyport_bg.wasm target/site/pkg/keyport.css; do
  [[ -f ${f} ]] || die "${f} is missing; run scripts/build.sh (make build)"
done
[[ -d end2end/node_modules/playwright-core ]] ||
  die "end2end/node_modules is missing; run scripts/ensure-tools.sh --browser"
have curl || die "curl is missing; run scripts/ensure-tools.sh --browser"
have node || die "node is missing; run scripts/ensure-tools.sh --browser"
chosen=()
node_args=()
for arg in "$@"; do
  if [[ ${arg} == *.test.mjs ]]; then
    [[ -f ${arg} ]] || die "no spec ${arg}"
    chosen+=("${arg}")
  else
    node_args+=("${arg}")
  fi
done
shopt -s nullglob
specs=(end2end/tests/*.test.mjs)
shopt -u nullglob
[[ ${#chosen[@]} -eq 0 ]] || specs=("${chosen[@]}")
[[ ${#specs[@]} -gt 0 ]] || die "no end2end/tests/*.test.mjs"

work="$(mktemp -d "${TMPDIR:-/tmp}/keyport-e2e.XXXXXX")"
server_log="${work}/server.log"
server_pid=""
mail_dir="${work}/mail"
sink_log="${work}/smtp-sink.log"
sink_pid=""
# Chromium profiles go under ${work}/tmp, so leftovers are ours to find (see cleanup).
mkdir -p "${work}/tmp"

# shellcheck disable=SC2317  # called from cleanup (EXIT trap)
stop_server() {
  [[ -n ${server_pid} ]] || return 0
  if kill -0 "${server_pid}" 2>/dev/null; then
    kill -TERM "${server_pid}" 2>/dev/null || true
    # Graceful shutdown drains requests and closes the database; give it 10 s.
    for _ in $(seq 1 50); do
      kill -0 "${server_pid}" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "${server_pid}" 2>/dev/null; then
      log "e2e: server did not stop on SIGTERM; killing it"
      kill -KILL "${server_pid}" 2>/dev/null || true
    fi
  fi
  wait "${server_pid}" 2>/dev/null || true
  server_pid=""
}

# shellcheck disable=SC2317  # called from cleanup (EXIT trap)
stop_sink() {
  [[ -n ${sink_pid} ]] || return 0
  kill -TERM "${sink_pid}" 2>/dev/null || true
  wait "${sink_pid}" 2>/dev/null || true
  sink_pid=""
}

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  stop_sink
  # A browser whose test runner died without closing it: only those with a profile in ${work}.
  local pids
  pids="$(pgrep -f -- "--user-data-dir=${work}/" || true)"
  if [[ -n ${pids} ]]; then
    # shellcheck disable=SC2086  # one pid per word
    kill -KILL ${pids} 2>/dev/null || true
  fi
  rm -rf "${work}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

print_server_log() {
  log "---- server log (last 80 lines) ----"
  tail -n 80 "${server_log}" >&2 || true
  log "---- end of server log ----"
}

# The first start creates this admin, whom specs sign in as to mount APIs.
admin_email="admin@e2e.example.com"
admin_password="e2e-admin-password-$$"

# The SMTP sink first, so the server's first mail finds it listening.
smtp_port=""
for attempt in 1 2 3; do
  smtp_port="$(free_port)"
  : >"${sink_log}"
  node end2end/smtp-sink.mjs "${smtp_port}" "${mail_dir}" >"${sink_log}" 2>&1 &
  sink_pid=$!
  for _ in $(seq 1 50); do
    grep -q 'listening' "${sink_log}" 2>/dev/null && break 2
    kill -0 "${sink_pid}" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "${sink_pid}" 2>/dev/null || true
  wait "${sink_pid}" 2>/dev/null || true
  sink_pid=""
  [[ ${attempt} -lt 3 ]] || { cat "${sink_log}" >&2; die "the SMTP sink did not start"; }
  log "e2e: SMTP port ${smtp_port} was taken; trying another"
done
log "e2e: SMTP sink on 127.0.0.1:${smtp_port} (mail: ${mail_dir})"

# The server binds the port we name; if someone took it in between, try another.
port=""
ready=0
for attempt in 1 2 3; do
  port="$(free_port)"
  : >"${server_log}"
  # The first start creates this admin, so /register is open (no /setup detour).
  env -u KEYPORT_DATABASE_URL -u KEYPORT_PUBLIC_URL -u KEYPORT_SECRET -u KEYPORT_MAIL_FROM \
    KEYPORT_ADDR="127.0.0.1:${port}" \
    KEYPORT_DATA_DIR="${work}/data" \
    KEYPORT_ADMIN_EMAIL="${admin_email}" \
    KEYPORT_ADMIN_PASSWORD="${admin_password}" \
    KEYPORT_SMTP_URL="smtp://127.0.0.1:${smtp_port}" \
    LEPTOS_SITE_ROOT=target/site \
    RUST_LOG="${RUST_LOG:-info}" \
    "${server_bin}" >"${server_log}" 2>&1 &
  server_pid=$!
  # Up to ~30 s: migrations and the first admin's password hash run before the port opens.
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${port}/readyz" 2>/dev/null; then
      ready=1
      break 2
    fi
    kill -0 "${server_pid}" 2>/dev/null || break
    sleep 0.2
  done
  if ! kill -0 "${server_pid}" 2>/dev/null && [[ ${attempt} -lt 3 ]] &&
    grep -qi 'could not listen\|address already in use' "${server_log}"; then
    wait "${server_pid}" 2>/dev/null || true
    server_pid=""
    log "e2e: port ${port} was taken; trying another"
    continue
  fi
  break
done
if [[ ${ready} -ne 1 ]]; then
  if kill -0 "${server_pid}" 2>/dev/null; then
    log "e2e: GET http://127.0.0.1:${port}/readyz never answered 200 within 30 s"
  else
    log "e2e: the server exited before it was ready"
  fi
  print_server_log
  exit 1
fi
log "e2e: server ready on http://127.0.0.1:${port} (data: ${work}/data)"

set +e
BASE_URL="http://127.0.0.1:${port}" TMPDIR="${work}/tmp" \
  E2E_ADMIN_EMAIL="${admin_email}" E2E_ADMIN_PASSWORD="${admin_password}" \
  E2E_MAIL_DIR="${mail_dir}" \
  node --test --test-reporter=spec "${node_args[@]}" "${specs[@]}"
rc=$?
set -e

if [[ ${rc} -ne 0 ]]; then
  print_server_log
fi
exit "${rc}"
