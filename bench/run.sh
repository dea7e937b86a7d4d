#!/usr/bin/env bash
# bench/run.sh - measure mailx serve against Postfix on this machine, in one go.
#
# It builds mailx, sets up Postfix on loopback exactly as
# /work/shared/bench/README.md says (installing it if needed; "Local only",
# so no mail can leave), starts `mailx serve` on 127.0.0.1 with its own data
# directory, and runs peer-bench.sh (Postfix's smtp-source as the client)
# against both in ONE invocation: 1 KB and 100 KB messages with 1 and 20
# sessions, messages/second accepted (each 250 is durable on both) and the
# time until all are in the recipient's Maildir. It prints each mailx figure
# as a ratio to Postfix's from the same run, then holds 10,000 idle SMTP
# sessions against mailx and reports its RSS.
#
# Run as root (Postfix setup, ulimit). Linux only.
#
# Usage: bench/run.sh [-r RUNS] [-n COUNT] [-w WORKLOADS] [-i IDLE] [-q] [-k]
#   -r RUNS       repetitions per workload (default 3; the summary is the median)
#   -n COUNT      messages per run, instead of peer-bench's defaults
#   -w WORKLOADS  comma-separated peer-bench workloads (default s1-1k,s20-1k,s1-100k,s20-100k)
#   -i IDLE       idle sessions to hold (default 10000; 0 skips)
#   -q            skip the 70 s settling pause after emptying the Maildirs
#   -k            keep the work directory (default: removed at the end)
# Environment: PEER_BENCH (default /work/shared/bench/peer-bench.sh),
#   MAILX_PORT (default 2525), BENCH_WORK (work directory).
set -euo pipefail
export LC_ALL=C

RUNS=3; COUNT=""; WORKLOADS="s1-1k,s20-1k,s1-100k,s20-100k"; IDLE=10000; SETTLE=1; KEEP=0
while getopts "r:n:w:i:qkh" o; do
  case "$o" in
    r) RUNS=$OPTARG ;; n) COUNT=$OPTARG ;; w) WORKLOADS=$OPTARG ;; i) IDLE=$OPTARG ;;
    q) SETTLE=0 ;; k) KEEP=1 ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (it configures Postfix and raises ulimit -n)" >&2; exit 2; }
[ "$(uname -s)" = Linux ] || { echo "run.sh: Linux only" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEER_BENCH=${PEER_BENCH:-/work/shared/bench/peer-bench.sh}
PORT=${MAILX_PORT:-2525}
WORK=${BENCH_WORK:-$(mktemp -d /var/tmp/mailx-bench.XXXXXX)}
DATA=$WORK/data
mkdir -p "$WORK"
SERVEPID=""; STARTED_POSTFIX=0
cleanup() {
  if [ -n "$SERVEPID" ]; then kill "$SERVEPID" 2>/dev/null || true; wait "$SERVEPID" 2>/dev/null || true; fi
  if [ "$STARTED_POSTFIX" = 1 ]; then postfix stop >/dev/null 2>&1 || true; fi
  [ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # PORT: wait until something listens on 127.0.0.1:PORT (bounded)
  for _ in $(seq 1 100); do
    ss -ltnH "sport = :$1" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  echo "run.sh: nothing listens on 127.0.0.1:$1" >&2; return 1
}

echo "# building mailx"
(cd "$ROOT" && go build -o "$WORK/mailx" ./cmd/mailx && go build -o "$WORK/idle" ./bench/idle)

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

# Empty both Maildirs, then let the file system settle (see the bench README).
rm -rf "$PFMD/new" "$PFMD/cur" "$PFMD/tmp"; rm -rf "$DATA"
if [ "$SETTLE" = 1 ]; then echo "# sync; sleep 70 (file creation is slow right after mass deletion)"; sync; sleep 70; fi

echo "# starting mailx serve on 127.0.0.1:$PORT (data in $DATA)"
# Each idle session is one descriptor in mailx and one in the client.
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=65536
ulimit -n "$(( hard < 65536 ? hard : 65536 ))"
if [ "$IDLE" -gt 0 ] && [ "$(ulimit -n)" -lt $((IDLE + 200)) ]; then
  echo "run.sh: ulimit -n is $(ulimit -n): too low for $IDLE idle sessions (raise the hard limit)" >&2; exit 2
fi
"$WORK/mailx" serve --data "$DATA" --domain localhost --user bench:bench-password \
  --smtp "127.0.0.1:$PORT" --submission off --max-sessions 20000 --max-sessions-per-client 20000 \
  >"$WORK/serve.log" 2>&1 &
SERVEPID=$!
wait_port "$PORT"

nflag=(); [ -n "$COUNT" ] && nflag=(-n "$COUNT")
echo "# $(cd "$ROOT" && git log -1 --format='mailx %h %s' 2>/dev/null || echo mailx)"
"$PEER_BENCH" -r "$RUNS" -w "$WORKLOADS" "${nflag[@]}" -t bench@localhost \
  "postfix=127.0.0.1:25,maildir=$PFMD" \
  "mailx=127.0.0.1:$PORT,maildir=$DATA/mail/bench" | tee "$WORK/peer.txt"

echo
echo "# mailx / Postfix, same run (goals: accept x3 with 20 sessions, x2.5 with 1; into Maildir x3)"
awk '
  $1 == "summary" {
    rate[$2, $3] = $4
    i = index($0, "delivered-all ")
    if (i > 0) { s = substr($0, i); j = index(s, "("); s = substr(s, j + 1); sub(/ msg\/s.*/, "", s); deliv[$2, $3] = s }
    if (!seen[$3]++) order[++n] = $3
  }
  END {
    printf "%-10s %12s %12s %8s   %14s %14s %8s\n", "workload", "postfix/s", "mailx/s", "accept", "postfix-e2e/s", "mailx-e2e/s", "e2e"
    for (i = 1; i <= n; i++) {
      w = order[i]; p = rate["postfix", w]; x = rate["mailx", w]; pd = deliv["postfix", w]; xd = deliv["mailx", w]
      ra = (p > 0) ? sprintf("x%.2f", x / p) : "NA"; rd = (pd > 0 && xd > 0) ? sprintf("x%.2f", xd / pd) : "NA"
      printf "%-10s %12s %12s %8s   %14s %14s %8s\n", w, p, x, ra, pd ? pd : "NA", xd ? xd : "NA", rd
    }
  }' "$WORK/peer.txt"

if [ "$IDLE" -gt 0 ]; then
  echo
  echo "# holding $IDLE idle SMTP sessions against mailx serve"
  "$WORK/idle" -addr "127.0.0.1:$PORT" -n "$IDLE" -pid "$SERVEPID"
fi
