// Package tlscert provides the TLS certificate of `mailx serve`: a
// self-signed ECDSA P-256 certificate generated on first start and kept in
// the data directory (tls/cert.pem, tls/key.pem), so that clients that pin
// it (swaks --tls-verify off, Python's ssl with the file as CA, mutt's
// certificate prompt) see the same one across restarts.
//
// It is not a certificate authority and does not talk to ACME: a practice
// server on 127.0.0.1 cannot get a publicly trusted certificate, and STARTTLS
// between mail servers accepts self-signed ones (RFC 7435 opportunistic
// security). A certificate placed in those files by hand (e.g. a real one for
// a classroom server) is used as it is.
//
// RFCs: 5280 (X.509), 3207 (SMTP STARTTLS), 8314 (implicit TLS ports).
package tlscert
