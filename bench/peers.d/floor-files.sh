# floor_files: the body floor plus the file work of a durable one-file-per-message store
# (bench/sync/floor-files.py): what any client that keeps each message in its own durable
# file pays on top of floor_body on this machine's file system. Loaded by bench/run-sync
# beside postroom.sh (BENCH_HOOKS).

_ff_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PEER_SCENARIOS_floor_files="full"
PEER_INBOX_floor_files=none

peer_floor_files() {  # HOST PORT USER PASS LOCALDIR
  mkdir -p "$5/files"
  "${PYTHON:-/usr/bin/python3}" "$_ff_root/bench/sync/floor-files.py" --host "$1" --port "$2" \
    --user "$3" --password "$4" --mailbox "${BENCH_MAILBOX:-INBOX}" --dir "$5/files"
}
