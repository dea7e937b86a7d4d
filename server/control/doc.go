// Package control is the control endpoint of a running mailx server and its
// client: `mailx queue list` and friends talk to the server that owns the
// queue instead of touching its files, so two processes never change a
// queue at once.
//
// The server listens on 127.0.0.1 on a free port and writes the address and
// a random token to DATA/control.json (mode 0600) while it runs; the file is
// removed on shutdown. Each call is an HTTP POST to /v1/<name> with a JSON
// body and "Authorization: Bearer <token>"; the reply is the result as JSON,
// or {"error": "...", "code": "..."} with a 4xx/5xx status. TCP on loopback
// works on every platform (Unix sockets are missing on older Windows), the
// token keeps other local users out, and requiring the Authorization header
// and a JSON body stops web pages from reaching it through the browser.
//
// Other server parts add calls with Handle (the relay side adds retry, hold,
// release and bounce for the queue). QueueAdmin hides whether a queue is
// reached through a running server or opened directly because none runs.
//
// What it is not: a remote administration interface. It never listens
// beyond loopback and follows no RFC; it is mailx's own.
package control
