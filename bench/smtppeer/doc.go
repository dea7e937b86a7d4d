// Command smtppeer measures SMTP receivers on loopback with Postfix's
// smtp-source as the client, side by side in one invocation, and prints
// each receiver's figures as a ratio to a reference receiver (Postfix, in
// bench/run.sh).
//
//	go run ./bench/smtppeer -r 3 \
//	    postfix=127.0.0.1:25,maildir=/home/bench/Maildir \
//	    mailx=127.0.0.1:2525,maildir=/var/tmp/mx/data/mail/bench
//
// For every workload (1 KiB and 100 KiB messages, 1 and 20 concurrent
// sessions, each session sending all its messages over one connection), and
// for every target in turn, it runs smtp-source once per repetition and
// measures two things:
//
//   - accepted: messages a second, from starting smtp-source until it exits
//     (it exits once the server has answered 250 to the last DATA);
//   - into Maildir, when the target names its recipient's Maildir: the time
//     from the start until the run's last message is a file in new/ or cur/,
//     as messages a second. A server that answers 250 quickly but delivers
//     late is caught here.
//
// The targets take turns within each repetition, so the machine's drift
// (other processes, the page cache, the disk's write-back) hits them alike.
// Quote ratios from one invocation, never absolute figures from two.
//
// It refuses any address that is not loopback, builds nothing and installs
// nothing: smtp-source comes from the Debian package postfix (it is looked
// for on PATH, then in /usr/sbin). It never deletes mail: empty the Maildirs
// between invocations yourself (bench/run.sh does).
//
// Exit status: 0 when every run completed, 1 when a run failed or a
// delivery did not complete in time, 2 for a usage error.
package main
