// Command idle holds many idle SMTP sessions open against a server on
// loopback and reports the server's resident memory, for the README's
// "10,000 idle sessions under 300 MB" figure. bench/run.sh drives it.
//
//	go run ./bench/idle -addr 127.0.0.1:2525 -n 10000 -pid 12345
//
// Each connection reads the server's 220 greeting (so the session really
// exists server-side) and then stays silent. The server's RSS is read from
// /proc/PID/status (Linux only). The process needs a file-descriptor limit
// above -n (ulimit -n).
package main
