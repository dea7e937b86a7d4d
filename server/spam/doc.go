// Package spam is mailx's spam score and its learning filter.
//
// The score adds up named rules, each with its points and a sentence that
// explains it, as SpamAssassin does: sender authentication results (SPF,
// DKIM, DMARC from proto/auth), DNS blocklist listings, a missing
// Message-ID, a Date far off, HTML without a plain-text part, a From display
// name that names another domain, and the learning filter's probability. The
// result is written into the message as
//
//	X-Spam-Status: Yes, score=7.2 required=5.0 tests=DMARC_FAIL,SPF_FAIL
//	X-Spam-Report:
//	  * 3.0 SPF_FAIL SPF fail: 203.0.113.66 may not send for crepes.test
//	  ...
//
// and decides the folder: above the threshold the copy goes to the user's
// Junk folder (IMAP \Junk, RFC 6154), above the reject level the message is
// refused at the end of DATA with 550 5.7.1.
//
// The filter (bayes.go) is a statistical filter per user, trained when the
// user moves mail into Junk (spam) or out of it (ham): Paul Graham's token
// probabilities with Gary Robinson's corrections, combined with Fisher's
// chi-square method as SpamAssassin and bogofilter do. A new user's filter
// starts with a small built-in set of ordinary lab mail (ham) so that it
// does not call everything spam after its first lesson; it learns spam
// only from its user (or `mailx spam train`).
//
// What it is not: a DNS client, an SMTP server, or the checks themselves
// (proto/auth); package server wires them together.
package spam
