# Postroom as a peer of the shared IMAP sync harness (../shared/bench): postroomd on a private
# D-Bus session bus with an unlocked gnome-keyring (tests/servers/keyring_session.py), driven
# through bench/sync/pr-bench-sync-client (or postroomctl + gdbus). Load it with
# BENCH_HOOKS=/path/to/bench/peers.d/postroom.sh (bench/run-sync does), then e.g.
# ./peers.sh --peers "floor_body postroom".
#
# Peers (all sync INBOX of user bench on the harness's Dovecot, plaintext, no COMPRESS):
#   postroom_headers  full: ConnectAndSync("sync") into an empty store: envelopes, flags,
#                     BODYSTRUCTURE, no bodies.
#   postroom          full: ConnectAndSync("sync") then GetMail(action=populate,
#                     messages=all): every body of INBOX; the wall time is the total.
#                     nochange/changes: a fresh connect + sync of the existing store; for
#                     changes then GetMail(populate, all): the 100 new messages' bodies, as
#                     mbsync downloads them (nochange: nothing new, so no GetMail).
#   postroom_online   nochange/changes: the daemon is already connected (it connected and
#                     synchronised before the timed run, idle=false and sync-interval=0 so
#                     nothing syncs behind our back); timed: Synchronise("full"), and
#                     GetMail as above for changes.
#   postroom_online_inbox  the same with Synchronise("folders", ["INBOX"]).
# Every timed run starts postroomd in peer_*_before (untimed) and stops it in peer_*_after,
# except the online peers, whose daemon lives from their first run to their last (a
# connected daemon is what they measure). The daemon's store, settings (GSettings keyfile)
# and logs live in LOCALDIR/.postroom/; the keyring is new each time the daemon starts, so
# the password is stored again (untimed).
#
# peer_*_pids reports postroomd, so the harness records its CPU (svc_cpu_s) and VmHWM
# (svc_hwm_kb). PEER_INBOX_*=none: the store is not a Maildir; peer_*_after checks it
# instead (bench/sync/verify-store.py: Message-IDs and flags against the server, plus every
# body's presence and size when bodies are expected) and appends one JSON line per run to
# $POSTROOM_BENCH_LOG, together with the phase times (sync_s, bodies_s) measured inside the
# timed function.
#
# The timed function is bench/sync/pr-bench-sync-client when it is built (bench/run-sync
# builds it into bench/data/; POSTROOM_SYNC_CLIENT overrides the path): one process and one
# bus connection per run. Without it, postroomctl sync and two gdbus calls do the same,
# with 13-20 ms of start-up each.
#
# Environment: POSTROOM_BUILDDIR (default <repo>/_build/bench-sync, a release build),
# POSTROOM_BENCH_LOG (default LOCALDIR/../postroom-bench.jsonl), POSTROOM_BENCH_PIDS (a file
# to which every started session's process group is appended, for the caller's clean-up),
# POSTROOM_PRIME_BODIES=0 (the online peers' untimed first sync skips the bodies: enough
# for nochange-only runs, where no GetMail follows), POSTROOM_TRACE=1 (PR_IMAP_TRACE=1 G_MESSAGES_DEBUG=all into LOCALDIR/.postroom/postroomd.log),
# POSTROOM_DAEMON_WRAPPER (a command prefix for postroomd, e.g. "perf record -g -o F --").

_pr_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_pr_builddir() { echo "${POSTROOM_BUILDDIR:-$_pr_root/_build/bench-sync}"; }
_pr_id=bench
_pr_svc=/org/postroom/Postroom1/services/bench

PEER_SCENARIOS_postroom_headers="full"
PEER_INBOX_postroom_headers=none
PEER_SCENARIOS_postroom="full nochange changes"
PEER_INBOX_postroom=none
PEER_SCENARIOS_postroom_online="nochange changes"
PEER_INBOX_postroom_online=none
PEER_SCENARIOS_postroom_online_inbox="nochange changes"
PEER_INBOX_postroom_online_inbox=none

_pr_now() { date +%s.%N; }
_pr_log() { echo "postroom.sh: $*" >&2; }

_pr_check() {
  local b; b=$(_pr_builddir)
  for f in "$b/src/daemon/postroomd" "$b/src/cli/postroomctl" "$b/data/gschemas.compiled"; do
    [ -e "$f" ] || { _pr_log "missing $f (meson setup $b -Dbuildtype=release && ninja -C $b)"; return 1; }
  done
  command -v dbus-daemon >/dev/null && command -v gnome-keyring-daemon >/dev/null && command -v gdbus >/dev/null \
    || { _pr_log "needs dbus-daemon, gnome-keyring-daemon and gdbus (tools/bootstrap)"; return 1; }
}
peer_postroom_headers_check() { _pr_check; }
peer_postroom_check() { _pr_check; }
peer_postroom_online_check() { _pr_check; }
peer_postroom_online_inbox_check() { _pr_check; }

# N of the run, from the harness's LOCALDIR (work/RUN_ID/nN/PEER)
_pr_n() {
  local p; p=$(basename "$(dirname "$1")")
  if [[ "$p" =~ ^n[0-9]+$ ]]; then echo "${p#n}"; else echo 0; fi
}

_pr_ctl() {  # LOCALDIR ARGS...
  local d="$1/.postroom"; shift
  POSTROOM_BUS_ADDRESS="$(cat "$d/bus")" "$(_pr_builddir)/src/cli/postroomctl" "$@"
}

_pr_gdbus() {  # LOCALDIR gdbus-call-args...
  local d="$1/.postroom"; shift
  gdbus call --address "$(cat "$d/bus")" --dest org.postroom.Postroom1 "$@"
}

_pr_running() { [ -s "$1/.postroom/postroomd.pid" ] && kill -0 "$(cat "$1/.postroom/postroomd.pid")" 2>/dev/null; }

_pr_start() {  # LOCALDIR HOST PORT USER PASS ONLINE(0|1)
  local local=$1 host=$2 port=$3 user=$4 pass=$5 online=$6 d="$1/.postroom" b i
  b=$(_pr_builddir)
  mkdir -p "$d/data" "$d/config"
  rm -f "$d/bus" "$d/postroomd.pid"
  local trace=""
  [ "${POSTROOM_TRACE:-0}" = 1 ] && trace="PR_IMAP_TRACE=1 G_MESSAGES_DEBUG=all"
  # keyring_session.py: private bus + unlocked keyring, torn down when postroomd exits.
  # Its own session (setsid), so the whole tree can be stopped as one process group.
  setsid "${PYTHON:-/usr/bin/python3}" "$_pr_root/tests/servers/keyring_session.py" -- /bin/bash -c '
      d=$1 b=$2; shift 2
      echo "$$" > "$d/postroomd.pid"
      printf "%s\n" "$DBUS_SESSION_BUS_ADDRESS" > "$d/bus.tmp" && mv "$d/bus.tmp" "$d/bus"
      export XDG_DATA_HOME="$d/data" XDG_CONFIG_HOME="$d/config" GSETTINGS_BACKEND=keyfile \
             GSETTINGS_SCHEMA_DIR="$b/data" "$@"
      exec ${POSTROOM_DAEMON_WRAPPER:-} "$b/src/daemon/postroomd" --address "$DBUS_SESSION_BUS_ADDRESS"
    ' _ "$d" "$b" $trace </dev/null >>"$d/postroomd.log" 2>&1 &
  local sid=$!
  echo "$sid" > "$d/session.pid"
  [ -n "${POSTROOM_BENCH_PIDS:-}" ] && echo "$sid" >> "$POSTROOM_BENCH_PIDS"
  for i in $(seq 200); do
    if [ -s "$d/bus" ] && gdbus call --address "$(cat "$d/bus")" --dest org.freedesktop.DBus \
         --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner \
         org.postroom.Postroom1 2>/dev/null | grep -q true; then
      break
    fi
    kill -0 "$sid" 2>/dev/null || { _pr_log "postroomd did not start (see $d/postroomd.log)"; return 1; }
    sleep 0.05
  done
  if [ -e "$d/added" ]; then
    printf '%s\n' "$pass" | _pr_ctl "$local" password --service "$_pr_id" --password-stdin >/dev/null
  else
    printf '%s\n' "$pass" | _pr_ctl "$local" add --id "$_pr_id" --host "$host" --port "$port" \
      --security none --user "$user" --password-stdin >/dev/null || return 1
    touch "$d/added"
  fi
  if [ "$online" = 1 ]; then
    _pr_ctl "$local" set --service "$_pr_id" idle=false sync-interval=0 >/dev/null || return 1
    # connect and bring the store up to date (untimed); on the first run this is the
    # initial sync, bodies included, so that GetMail later fetches only what is new
    _pr_ctl "$local" sync --service "$_pr_id" --connect >/dev/null || return 1
    if [ "${POSTROOM_PRIME_BODIES:-1}" = 1 ]; then _pr_get_mail "$local" || return 1; fi
  fi
}

_pr_stop() {  # LOCALDIR
  local d="$1/.postroom" pid sid i
  pid=$(cat "$d/postroomd.pid" 2>/dev/null)
  sid=$(cat "$d/session.pid" 2>/dev/null)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
  for i in $(seq 200); do
    [ -n "$sid" ] && kill -0 "$sid" 2>/dev/null || break
    sleep 0.05
  done
  # anything left of the session (bus, keyring, postroomd)
  [ -n "$sid" ] && kill -TERM -- "-$sid" 2>/dev/null
  if [ -n "$sid" ] && [ -n "${POSTROOM_BENCH_PIDS:-}" ] && [ -e "$POSTROOM_BENCH_PIDS" ]; then
    sed -i "/^$sid\$/d" "$POSTROOM_BENCH_PIDS"
  fi
  rm -f "$d/postroomd.pid" "$d/session.pid"
  return 0
}

# GetMail(action=populate, messages=all, folder=INBOX): every body still missing; waits.
_pr_get_mail() {  # LOCALDIR
  local out op
  out=$(_pr_gdbus "$1" --object-path "$_pr_svc" --method org.postroom.Postroom1.Imap4Service.GetMail \
        "{'action': <'populate'>, 'messages': <'all'>, 'folder': <'INBOX'>}") || return 1
  op=$(sed -E "s/^\(objectpath '([^']+)',\)\$/\1/" <<< "$out")
  _pr_gdbus "$1" --timeout 7200 --object-path "$op" --method org.postroom.Postroom1.Imap4Operation.Wait "{}" >/dev/null
}

_pr_phase_file() { echo "$1/.postroom/phases"; }

# the timed client: bench/sync/pr-bench-sync-client (one process, one bus connection) when
# built, else postroomctl + gdbus (each of those processes adds 13-20 ms)
_pr_client() {
  local c="${POSTROOM_SYNC_CLIENT:-$_pr_root/bench/data/pr-bench-sync-client}"
  [ -x "$c" ] && echo "$c"
}

# the timed part of every postroom peer
_pr_sync() {  # MODE(connect|full|inbox) BODIES(0|1) LOCALDIR
  local mode=$1 bodies=$2 local=$3 t0 t1 t2 client
  client=$(_pr_client)
  if [ -n "$client" ]; then
    local args=(--address "$(cat "$local/.postroom/bus")" --service "$_pr_svc") out
    case "$mode" in
      connect) args+=(--connect-and-sync);;
      full) args+=(--synchronise full);;
      inbox) args+=(--synchronise-folder INBOX);;
    esac
    # a resync that found nothing new has no body to fetch: a client would not ask
    if [ "$bodies" = 1 ] && [ "${BENCH_SCENARIO:-full}" != nochange ]; then
      args+=(--get-mail)
    fi
    out=$("$client" "${args[@]}") || return 1
    echo "json $out" > "$(_pr_phase_file "$local")"
    return 0
  fi
  t0=$(_pr_now)
  case "$mode" in
    connect) _pr_ctl "$local" sync --service "$_pr_id" --connect >/dev/null || return 1;;
    full) _pr_ctl "$local" sync --service "$_pr_id" --scope full >/dev/null || return 1;;
    inbox) _pr_ctl "$local" sync --service "$_pr_id" --scope folders INBOX >/dev/null || return 1;;
  esac
  t1=$(_pr_now)
  # a resync that found nothing new has no body to fetch: a client would not ask
  if [ "$bodies" = 1 ] && [ "${BENCH_SCENARIO:-full}" != nochange ]; then
    _pr_get_mail "$local" || return 1
    t2=$(_pr_now)
    echo "$t0 $t1 $t2" > "$(_pr_phase_file "$local")"
  else
    echo "$t0 $t1" > "$(_pr_phase_file "$local")"
  fi
}

peer_postroom_headers() { _pr_sync connect 0 "$5"; }
peer_postroom() { _pr_sync connect 1 "$5"; }
peer_postroom_online() { _pr_sync full 1 "$5"; }
peer_postroom_online_inbox() { _pr_sync inbox 1 "$5"; }

peer_postroom_headers_before() { _pr_start "$5" "$1" "$2" "$3" "$4" 0; }
peer_postroom_before() { _pr_start "$5" "$1" "$2" "$3" "$4" 0; }
_pr_online_before() { _pr_running "$5" || _pr_start "$5" "$1" "$2" "$3" "$4" 1; }
peer_postroom_online_before() { _pr_online_before "$@"; }
peer_postroom_online_inbox_before() { _pr_online_before "$@"; }

_pr_pids() { cat "$1/.postroom/postroomd.pid" 2>/dev/null; }
peer_postroom_headers_pids() { _pr_pids "$1"; }
peer_postroom_pids() { _pr_pids "$1"; }
peer_postroom_online_pids() { _pr_pids "$1"; }
peer_postroom_online_inbox_pids() { _pr_pids "$1"; }

# untimed: record the phases and check the store against the server
_pr_after() {  # PEER BODIES(0|1) HOST PORT USER PASS LOCALDIR STOP(0|1)
  local peer=$1 bodies=$2 host=$3 port=$4 user=$5 pass=$6 local=$7 stop=$8
  local log="${POSTROOM_BENCH_LOG:-$(dirname "$local")/postroom-bench.jsonl}"
  local phases hwm="" cpu_ticks=""
  phases=$(cat "$(_pr_phase_file "$local")" 2>/dev/null)
  rm -f "$(_pr_phase_file "$local")"
  local pid; pid=$(_pr_pids "$local")
  [ -n "$pid" ] && hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
  [ "$stop" = 1 ] && _pr_stop "$local"
  local store
  store=$(ls -d "$local"/.postroom/data/postroom/*/ 2>/dev/null | head -n 1)
  local v
  v=$("${PYTHON:-/usr/bin/python3}" "$_pr_root/bench/sync/verify-store.py" --host "$host" \
        --port "${BENCH_VERIFY_PORT:-$port}" --user "$user" --password "$pass" \
        --mailbox "${BENCH_MAILBOX:-INBOX}" --store "${store:-$local/.postroom/data/postroom/none}" \
        $([ "$bodies" = 1 ] && echo --bodies) 2>&1 | tail -n 1)
  "${PYTHON:-/usr/bin/python3}" - "$log" "$(_pr_n "$local")" "$peer" "${BENCH_SCENARIO:-$scen}" \
      "${rep:-0}" "$phases" "$hwm" "$v" <<'EOF'
import json, sys
log, n, peer, scen, rep, phases, hwm, v = sys.argv[1:]
row = {"n": int(n), "peer": peer, "scenario": scen, "rep": int(rep)}
p = phases.split()
if p[:1] == ["json"]:
    t = json.loads(phases[5:])
    row.update({k: round(v, 4) for k, v in t.items()})
    row["total_s"] = round(t.get("sync_s", 0) + t.get("bodies_s", 0), 4)
    row["client"] = "pr-bench-sync-client"
elif len(p) == 3:
    t0, t1, t2 = map(float, p)
    row.update(sync_s=round(t1 - t0, 4), bodies_s=round(t2 - t1, 4), total_s=round(t2 - t0, 4))
elif len(p) == 2:
    t0, t1 = map(float, p)
    row.update(sync_s=round(t1 - t0, 4), total_s=round(t1 - t0, 4))
if hwm:
    row["hwm_kb"] = int(hwm)
try:
    row["verify"] = json.loads(v)
except ValueError:
    row["verify"] = {"ok": False, "error": v[-300:]}
with open(log, "a") as f:
    f.write(json.dumps(row) + "\n")
print("postroom verify:", json.dumps(row), file=sys.stderr)
EOF
}

# the harness calls *_after right after the timed run; $scen and $rep are peers.sh's
# (timed_run's locals, visible here by bash's dynamic scoping)
peer_postroom_headers_after() { BENCH_SCENARIO=$scen _pr_after postroom_headers 0 "$@" 1; }
peer_postroom_after() { BENCH_SCENARIO=$scen _pr_after postroom 1 "$@" 1; }

# the online peers' daemon stops after their last run: the last scenario they support that
# is in peers.sh's $SCENARIOS, repeat $RESYNC_REPEATS
_pr_online_last() {  # PEER
  local v="PEER_SCENARIOS_$1" last="" s
  for s in ${SCENARIOS:-nochange changes}; do
    [[ " ${!v} " == *" $s "* ]] && last=$s
  done
  [ "${scen:-}" = "$last" ] && [ "${rep:-1}" = "${RESYNC_REPEATS:-1}" ]
}
peer_postroom_online_after() {
  local stop=0; _pr_online_last postroom_online && stop=1
  BENCH_SCENARIO=$scen _pr_after postroom_online "${POSTROOM_PRIME_BODIES:-1}" "$@" "$stop"
}
peer_postroom_online_inbox_after() {
  local stop=0; _pr_online_last postroom_online_inbox && stop=1
  BENCH_SCENARIO=$scen _pr_after postroom_online_inbox "${POSTROOM_PRIME_BODIES:-1}" "$@" "$stop"
}
