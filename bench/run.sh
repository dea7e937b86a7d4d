#!/usr/bin/env bash
# bench/run.sh - measure mailx serve against Postfix on this machine, in one go.
#
# It builds mailx (this working tree) and the repository's own driver,
# bench/smtppeer, sets up Postfix on loopback ("Local only": no mail can
# leave; installing it if needed), starts `mailx serve` on 127.0.0.1 with its
# own data directory, and has smtppeer drive both with Postfix's smtp-source
# in ONE invocation: 1 KB and 100 KB messages with 1 and 20 sessions,
# messages/second accepted (each 250 is durable on both) and the time until
# all are in the recipient's Maildir, each mailx figure as a ratio to
# Postfix's from the same run. Then it holds 10,000 idle SMTP sessions
# against mailx and reports its RSS.
#
# With -b REV it also builds mailx at git revision REV (a baseline) and
# measures it in the same invocation, so a change can be shown not to move
# performance: "mailx" and "mailx@REV" are both compared with Postfix, turn
# by turn, under the same conditions.
#
# Run as root (Postfix setup, ulimit). Linux only. Needs Go, git, and the
# Debian package postfix (installed here when missing).
#
# Usage: bench/run.sh [-r RUNS] [-n COUNT] [-w WORKLOADS] [-i IDLE] [-b REV] [-q] [-k]
#   -r RUNS       repetitions per workload (default 3; the summary is the median)
#   -n COUNT      messages per run, instead of each workload's own count
#   -w WORKLOADS  comma-separated workloads (default s1-1k,s20-1k,s1-100k,s20-100k;
#                 also s20-1k-conn: a new connection per message)
#   -i IDLE       idle sessions to hold (default 10000; 0 skips)
#   -b REV        also measure mailx built at git revision REV (e.g. main, HEAD~3, a1b2c3d)
#   -q            skip the 70 s settling pause after emptying the Maildirs
#   -k            keep the work directory (default: removed at the end)
# Environment: MAILX_PORT (default 2525; the baseline listens on the next port),
#   BENCH_WORK (work directory).
# Example, a short check that a branch did not move the figures:
#   sudo bench/run.sh -r 1 -n 500 -i 0 -q -b main
set -euo pipefail
export LC_ALL=C

RUNS=3; COUNT=""; WORKLOADS="s1-1k,s20-1k,s1-100k,s20-100k"; IDLE=10000; SETTLE=1; KEEP=0; BASE=""
while getopts "r:n:w:i:b:qkh" o; do
  case "$o" in
    r) RUNS=$OPTARG ;; n) COUNT=$OPTARG ;; w) WORKLOADS=$OPTARG ;; i) IDLE=$OPTARG ;;
    b) BASE=$OPTARG ;; q) SETTLE=0 ;; k) KEEP=1 ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: -h lists the options" >&2; exit 2 ;;
  esac
done
case "$IDLE" in ''|*[!0-9]*) echo "run.sh: -i takes a whole number (0 skips the idle sessions)" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (it configures Postfix and raises ulimit -n)" >&2; exit 2; }
[ "$(uname -s)" = Linux ] || { echo "run.sh: Linux only (bench/smtppeer itself runs anywhere smtp-source does)" >&2; exit 2; }
command -v go >/dev/null || { echo "run.sh: Go is needed to build mailx (https://go.dev/dl/)" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${MAILX_PORT:-2525}
BASEPORT=$((PORT + 1))
WORK=${BENCH_WORK:-$(mktemp -d /var/tmp/mailx-bench.XXXXXX)}
DATA=$WORK/data
BASEDATA=$WORK/base-data
mkdir -p "$WORK"
PIDS=(); STARTED_POSTFIX=0
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ "$STARTED_POSTFIX" = 1 ]; then postfix stop >/dev/null 2>&1 || true; fi
  if [ "$KEEP" = 1 ]; then echo "# work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
wait_port() {  # PORT: wait until something listens on 127.0.0.1:PORT (bounded)
  for _ in $(seq 1 100); do listening "$1" && return 0; sleep 0.1; done
  echo "run.sh: nothing listens on 127.0.0.1:$1" >&2; return 1
}
for p in "$PORT" ${BASE:+"$BASEPORT"}; do
  if listening "$p"; then echo "run.sh: port $p is in use; set MAILX_PORT to another port" >&2; exit 2; fi
done

echo "# building mailx, bench/smtppeer and bench/idle"
(cd "$ROOT" && go build -o "$WORK/mailx" ./cmd/mailx && go build -o "$WORK/smtppeer" ./bench/smtppeer \
  && go build -o "$WORK/idle" ./bench/idle)
HERE=$(cd "$ROOT" && git log -1 --format='%h %s' 2>/dev/null || echo "(not a git checkout)")
if [ -n "$(cd "$ROOT" && git status --porcelain --untracked-files=no 2>/dev/null)" ]; then HERE="$HERE, with uncommitted changes"; fi
BASELABEL=""
if [ -n "$BASE" ]; then
  rev=$(git -C "$ROOT" rev-parse --verify --quiet "$BASE^{commit}") \
    || { echo "run.sh: -b $BASE: no such git revision in $ROOT" >&2; exit 2; }
  short=$(git -C "$ROOT" rev-parse --short "$rev")
  BASELABEL="mailx@$short"
  echo "# building the baseline $BASELABEL ($(git -C "$ROOT" log -1 --format=%s "$rev"))"
  mkdir -p "$WORK/base-src"
  git -C "$ROOT" archive "$rev" | tar -x -C "$WORK/base-src"
  (cd "$WORK/base-src" && go build -o "$WORK/mailx-base" ./cmd/mailx)
  rm -rf "$WORK/base-src"
fi

echo "# setting up Postfix on loopback (Local only: no mail leaves this machine)"
if ! command -v postfix >/dev/null; then
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string bench.localdomain" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y postfix >/dev/null
elif [ ! -f /etc/postfix/main.cf ]; then
  # Installed unconfigured ("No configuration", as .ci/run installs it for
  # its smtp-sink/smtp-source tests): configure it as "Local only" now.
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string bench.localdomain" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive dpkg-reconfigure -f noninteractive postfix >/dev/null 2>&1
fi
id bench >/dev/null 2>&1 || useradd -m -s /usr/sbin/nologin bench
postconf -e 'inet_interfaces = 127.0.0.1' 'inet_protocols = ipv4' 'home_mailbox = Maildir/' \
  'maillog_file = /var/log/postfix.log' 'smtpd_peername_lookup = no'
postfix check
if ! postfix status >/dev/null 2>&1; then postfix start >/dev/null 2>&1; STARTED_POSTFIX=1; fi
wait_port 25
PFMD=$(getent passwd bench | cut -d: -f6)/Maildir

# Empty every Maildir, then let the file system settle: right after tens of
# thousands of deletions, creating files is slow for about a minute on ext4.
rm -rf "$PFMD/new" "$PFMD/cur" "$PFMD/tmp" "$DATA" "$BASEDATA"
if [ "$SETTLE" = 1 ]; then echo "# sync; sleep 70 (file creation is slow right after mass deletion)"; sync; sleep 70; fi

# Each idle session is one descriptor in the client and, in mailx, one
# counted twice: mailx keeps its session budget at (soft limit - 128) / 2
# (server/access.SessionsForFiles), so IDLE sessions need 2*IDLE+128 there.
need=$(( 2 * IDLE + 1024 ))
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=1048576
if [ "$hard" -lt "$need" ]; then ulimit -Hn "$need" 2>/dev/null && hard=$need; fi
want=$(( hard < 65536 ? hard : 65536 )); [ "$want" -lt "$need" ] && want=$need
ulimit -n "$(( want < hard ? want : hard ))"
if [ "$IDLE" -gt 0 ] && [ "$(ulimit -n)" -lt "$need" ]; then
  fit=$(( ($(ulimit -n) - 1024) / 2 ))
  echo "# the open-file limit here is $(ulimit -n) and cannot be raised: holding $fit idle sessions instead of $IDLE"
  IDLE=$fit
fi
# SMTP only (POP3, IMAP and, with them, web mail off), so that two builds can
# run side by side and nothing but SMTP is measured.
serve() {  # BINARY DATA PORT LOG: start mailx serve for the bench user; sets SERVEPID
  "$1" serve --data "$2" --domain localhost --user bench:bench-password \
    --smtp "127.0.0.1:$3" --submission off --pop3 off --imap off \
    --max-sessions 20000 --max-sessions-per-client 20000 >"$4" 2>&1 &
  SERVEPID=$!; PIDS+=("$SERVEPID")
  wait_port "$3" || { echo "run.sh: mailx serve did not start; its log:" >&2; cat "$4" >&2; exit 1; }
}
echo "# starting mailx serve on 127.0.0.1:$PORT (data in $DATA)"
serve "$WORK/mailx" "$DATA" "$PORT" "$WORK/serve.log"; MAILXPID=$SERVEPID
targets=("postfix=127.0.0.1:25,maildir=$PFMD" "mailx=127.0.0.1:$PORT,maildir=$DATA/mail/bench")
if [ -n "$BASE" ]; then
  echo "# starting $BASELABEL on 127.0.0.1:$BASEPORT (data in $BASEDATA)"
  serve "$WORK/mailx-base" "$BASEDATA" "$BASEPORT" "$WORK/serve-base.log"
  targets+=("$BASELABEL=127.0.0.1:$BASEPORT,maildir=$BASEDATA/mail/bench")
fi

echo "# mailx: $HERE"
[ -n "$BASE" ] && echo "# $BASELABEL: $(git -C "$ROOT" log -1 --format='%h %s' "$BASE")"
echo "# goals (README): accepted x3 with 20 sessions and x2.5 with 1; into Maildir x3"
nflag=(); [ -n "$COUNT" ] && nflag=(-n "$COUNT")
status=0
"$WORK/smtppeer" -r "$RUNS" -w "$WORKLOADS" "${nflag[@]}" -t bench@localhost -ref postfix "${targets[@]}" || status=$?

if [ "$IDLE" -gt 0 ]; then
  echo
  echo "# holding $IDLE idle SMTP sessions against mailx serve"
  "$WORK/idle" -addr "127.0.0.1:$PORT" -n "$IDLE" -pid "$MAILXPID" || status=1
fi
exit "$status"
