#!/usr/bin/env bash
# bench/imap-vs-dovecot.sh - mailx serve's IMAP against Dovecot, side by side.
#
# It builds mailx and Dovecot's imaptest (through the mailx team's
# ../shared/tools/imaptest/build.sh, or IMAPTEST=/path/to/imaptest), starts
# `mailx serve` (IMAP only) and a private Dovecot (Debian's dovecot-imapd,
# its own config, never the system service) on free loopback ports, both
# checking the SAME bcrypt hash of alice's password, and runs imaptest's
# stress mix against each in turn, alternating, ROUNDS times: 10 clients
# that stay logged in (logout=0), 500 messages, no pipelining; select,
# fetch, store, expunge and append as imaptest mixes them. It prints each
# run's commands and the sums, and mailx's sum as a ratio to Dovecot's.
#
# Run as root (Dovecot's mail processes then run as nobody). Linux only.
# Needs Debian's dovecot-imapd and python3, and imaptest, which no Debian
# package ships: without it the script says how to get it and exits 77
# (the usual "skipped" status), measuring nothing.
#
# Usage: bench/imap-vs-dovecot.sh [-r ROUNDS] [-s SECS] [-c CLIENTS] [-k]
#   -r ROUNDS   alternations (default 3)
#   -s SECS     seconds per run (default 20)
#   -c CLIENTS  imaptest clients (default 10)
#   -k          keep the work directory
set -euo pipefail
export LC_ALL=C
ROUNDS=3; SECS=20; CLIENTS=10; KEEP=0
while getopts "r:s:c:kh" o; do
  case "$o" in
    r) ROUNDS=$OPTARG ;; s) SECS=$OPTARG ;; c) CLIENTS=$OPTARG ;; k) KEEP=1 ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
skip() { echo "imap-vs-dovecot.sh: skipped: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || { echo "imap-vs-dovecot.sh: run as root (Dovecot runs mail as nobody)" >&2; exit 2; }
[ -x /usr/sbin/dovecot ] || skip "Dovecot is not installed (Debian: apt-get install dovecot-imapd)"
command -v python3 >/dev/null || skip "python3 is needed to pick free ports (Debian: apt-get install python3)"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAPTEST=${IMAPTEST:-}
if [ -z "$IMAPTEST" ]; then
  # The mailx team keeps a pinned imaptest source and its build script beside
  # the repository; a clone elsewhere has no such directory.
  tools=$ROOT/../shared/tools/imaptest
  [ -x "$tools/build.sh" ] || skip "imaptest not found. No Debian package ships it: build it from
  https://github.com/dovecot/imaptest against Debian's dovecot-dev (see its README), then run
  IMAPTEST=/path/to/imaptest/src/imaptest $0"
  IMAPTEST=$("$tools/build.sh" | tail -1)
fi
[ -x "$IMAPTEST" ] || skip "IMAPTEST=$IMAPTEST is not an executable file"
MBOX=${MBOX:-$(dirname "$(dirname "$IMAPTEST")")/src/tests/default.mbox}
[ -f "$MBOX" ] || { echo "imap-vs-dovecot.sh: no mbox to APPEND from (looked for $MBOX); set MBOX=FILE, e.g. imaptest's src/tests/default.mbox" >&2; exit 2; }

WORK=$(mktemp -d /tmp/imap-vs-dovecot.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "$KEEP" = 1 ] && echo "work directory kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() { for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; return 1; }

echo "== building mailx"
(cd "$ROOT" && go build -o "$WORK/mailx" ./cmd/mailx)
"$WORK/mailx" serve user add alice --data "$WORK/mailx-data" --password hungry >/dev/null
HASH=$(grep '^alice:' "$WORK/mailx-data/accounts" | cut -d: -f2-)

MX_PORT=$(freeport); DV_PORT=$(freeport)
"$WORK/mailx" serve --data "$WORK/mailx-data" --no-transcripts --smtp 127.0.0.1:$(freeport) \
  --submission off --pop3 off --imap 127.0.0.1:$MX_PORT >"$WORK/mailx.log" 2>&1 &
PIDS+=($!)

NOBODY_UID=$(id -u nobody); NOBODY_GID=$(id -g nobody)
mkdir -p "$WORK/dovecot/state" "$WORK/dovecot/home"
chown nobody: "$WORK/dovecot/home"
echo "alice:{BLF-CRYPT}$HASH:$NOBODY_UID:$NOBODY_GID::$WORK/dovecot/home" >"$WORK/dovecot/passwd"
cat >"$WORK/dovecot/dovecot.conf" <<EOF
protocols = imap
listen = 127.0.0.1
base_dir = $WORK/dovecot/run
state_dir = $WORK/dovecot/state
log_path = $WORK/dovecot/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = $WORK/dovecot/passwd
}
userdb {
  driver = passwd-file
  args = $WORK/dovecot/passwd
}
service imap-login {
  inet_listener imap {
    port = $DV_PORT
  }
}
EOF
/usr/sbin/dovecot -F -c "$WORK/dovecot/dovecot.conf" >"$WORK/dovecot/stderr" 2>&1 &
PIDS+=($!)
waitport "$MX_PORT"; waitport "$DV_PORT"

run() { # run PORT -> total commands of one imaptest run
  LD_LIBRARY_PATH=/usr/lib/dovecot timeout $((SECS + 120)) "$IMAPTEST" host=127.0.0.1 port="$1" \
    user=alice pass=hungry mbox="$MBOX" clients="$CLIENTS" secs="$SECS" msgs=500 logout=0 no_pipelining \
    >"$WORK/run.out" 2>&1 || true
  tail -1 "$WORK/run.out" | awk '{s=0; for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+$/) s+=$i; print s}'
}

echo "== imaptest stress: $CLIENTS clients, $SECS s per run, 500 messages, logout=0, $ROUNDS rounds"
MX_SUM=0; DV_SUM=0
for r in $(seq "$ROUNDS"); do
  d=$(run "$DV_PORT"); m=$(run "$MX_PORT")
  DV_SUM=$((DV_SUM + d)); MX_SUM=$((MX_SUM + m))
  printf 'round %d: Dovecot %6d commands (%5d/s)   mailx %6d commands (%5d/s)\n' "$r" "$d" $((d / SECS)) "$m" $((m / SECS))
done
printf 'total:   Dovecot %6d (%d/s)   mailx %6d (%d/s)   mailx/Dovecot = %s\n' "$DV_SUM" $((DV_SUM / SECS / ROUNDS)) \
  "$MX_SUM" $((MX_SUM / SECS / ROUNDS)) "$(awk -v a="$MX_SUM" -v b="$DV_SUM" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')"
