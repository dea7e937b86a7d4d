// Package accounts is the user directory of `mailx serve`: which domains are
// local, which users have mailboxes, their password hashes, aliases such as
// postmaster, and subaddressing (bob+lists@ reaches bob).
//
// The SMTP server asks it whether a recipient is local (Resolve) and checks
// AUTH passwords with it (Authenticate); POP3 and IMAP log in through the
// same Authenticate, so one password works everywhere. Passwords are stored
// only as bcrypt hashes (golang.org/x/crypto/bcrypt) and compared in
// constant time; an unknown user costs the same bcrypt comparison as a known
// one, so timing does not reveal which users exist.
//
// The user database is a text file, DATA/accounts, one user per line:
//
//	# comment
//	alice:$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy
//
// written by `mailx serve user add|del|passwd` and re-read by a running
// server when it changes. It is not an authorization system: every account
// can send as any address once logged in, as in a classroom.
//
// RFCs: 5321 §4.1.1.3 (Postmaster), 5233 (subaddressing), 2142 (role
// mailboxes), 5891 (IDNA domains compared in ASCII form).
package accounts
