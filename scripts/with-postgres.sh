#!/usr/bin/env bash
# Runs CMD against a throwaway PostgreSQL cluster, then stops the cluster and deletes it.
#
#   scripts/with-postgres.sh CMD [ARGS...]
#
# CMD sees KEYPORT_TEST_DATABASE_URL=postgres://keyport@127.0.0.1:PORT/keyport_test. The role
# `keyport` is the cluster's superuser (it may CREATE/DROP DATABASE, e.g. one per test).
# The cluster listens on 127.0.0.1 only, trusts local connections and runs with fsync=off:
# for tests, never for data you care about. PostgreSQL refuses to run as root, so as root the
# server runs as the system user `keyport-pg` (created when missing). The exit code is CMD's.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -gt 0 ]] || {
  sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

pg_bin="$(pg_bindir)" || die "PostgreSQL not found; run scripts/ensure-tools.sh --postgres"
role=keyport
db=keyport_test
os_user=keyport-pg

started=0
pg_pid=""
tmp=""

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ ${started} -eq 1 ]]; then
    # pg_ctl signals the postmaster named in postmaster.pid; fast = roll back, disconnect.
    if ! as_pg "${pg_bin}/pg_ctl" -D "${tmp}/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
      log "with-postgres: fast stop failed; stopping immediately"
      as_pg "${pg_bin}/pg_ctl" -D "${tmp}/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    fi
    # Last resort: the postmaster's pid is the first line of postmaster.pid; ${pg_pid} is
    # only the wrapper (subshell, runuser) around it.
    local pid=""
    if [[ -f ${tmp}/data/postmaster.pid ]]; then
      pid="$(head -n1 "${tmp}/data/postmaster.pid" 2>/dev/null || true)"
    fi
    if [[ ${pid} =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null; then
      kill -KILL "${pid}" 2>/dev/null || true
    fi
    wait "${pg_pid}" 2>/dev/null || true
  fi
  if [[ -n ${tmp} ]]; then
    rm -rf "${tmp}"
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The cluster directory must be reachable by the server's user: /tmp is, $TMPDIR may not be.
tmp="$(mktemp -d /tmp/keyport-pg.XXXXXX)"

if [[ ${EUID} -eq 0 ]]; then
  if ! id -u "${os_user}" >/dev/null 2>&1; then
    have useradd || die "useradd not found; cannot create the ${os_user} user"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "${os_user}"
  fi
  chown "${os_user}:" "${tmp}"
  # Run from the cluster dir: the caller's working directory may be closed to keyport-pg.
  as_pg() {
    if have runuser; then
      (cd "${tmp}" && runuser -u "${os_user}" -- "$@")
    else
      (cd "${tmp}" && setpriv --reuid="${os_user}" --regid="${os_user}" --init-groups -- "$@")
    fi
  }
else
  as_pg() { (cd "${tmp}" && "$@"); }
fi
chmod 700 "${tmp}"

mkdir -p "${tmp}/sock"
[[ ${EUID} -ne 0 ]] || chown "${os_user}:" "${tmp}/sock"

as_pg "${pg_bin}/initdb" --pgdata="${tmp}/data" --username="${role}" --auth=trust \
  --encoding=UTF8 --no-locale --no-sync --no-instructions >"${tmp}/initdb.log" 2>&1 || {
  cat "${tmp}/initdb.log" >&2
  die "initdb failed"
}

# Settings for a disposable test server: local only, no durability.
cat >>"${tmp}/data/postgresql.conf" <<EOF

# --- scripts/with-postgres.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '${tmp}/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
EOF

# The server runs as our child (not daemonised by `pg_ctl start`) so that we reap it: nothing,
# not even a zombie, outlives this script. Another process may grab the port between our
# probe and the server's bind: then retry with another one.
port=""
for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  as_pg "${pg_bin}/postgres" -D "${tmp}/data" -p "${port}" >"${tmp}/postgres.log" 2>&1 &
  pg_pid=$!
  started=1
  for _ in $(seq 1 300); do
    if "${pg_bin}/pg_isready" --quiet --host=127.0.0.1 --port="${port}" --username="${role}" --dbname=postgres; then
      break 2
    fi
    kill -0 "${pg_pid}" 2>/dev/null || break
    sleep 0.2
  done
  if ! kill -0 "${pg_pid}" 2>/dev/null; then
    wait "${pg_pid}" || true
    started=0
    if [[ ${attempt} -lt 5 ]] && grep -q 'could not bind\|Address already in use\|could not create any TCP/IP sockets' "${tmp}/postgres.log"; then
      log "with-postgres: port ${port} was taken; trying another"
      continue
    fi
  fi
  cat "${tmp}/postgres.log" >&2 || true
  die "could not start PostgreSQL (log above)"
done

"${pg_bin}/createdb" --host=127.0.0.1 --port="${port}" --username="${role}" "${db}"

export KEYPORT_TEST_DATABASE_URL="postgres://${role}@127.0.0.1:${port}/${db}"
log "with-postgres: PostgreSQL $("${pg_bin}/postgres" --version | awk '{ print $3 }') on 127.0.0.1:${port} (KEYPORT_TEST_DATABASE_URL=${KEYPORT_TEST_DATABASE_URL})"

set +e
"$@"
rc=$?
set -e
exit "${rc}"
