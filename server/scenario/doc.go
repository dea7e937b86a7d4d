// Package scenario holds the named teaching scenarios of `mailx serve`: a
// switch per mail domain that makes its SMTP server misbehave in one
// deterministic, textbook way, so a class can watch how the sending server
// copes (retries, bounces, the queue).
//
//	normal             no interference (the default)
//	down               every connection gets "421 4.3.2 ... down" at once and is
//	                   closed: the sender must queue and retry (RFC 5321 §3.8)
//	greylist [SECS]    the first attempt of each sender/recipient pair gets
//	                   "451 4.7.1"; an attempt at least SECS (default 300, in
//	                   lesson time) later passes, as greylisting does
//	mailbox-full [USER] [552]
//	                   RCPT for USER (every user when omitted) gets
//	                   "452 4.2.2 mailbox full" (temporary), or with 552
//	                   "552 5.2.2" (permanent: bounce at once)
//	unknown-user [USER] RCPT for USER (every user when omitted) gets
//	                   "550 5.1.1": bounce at once
//	slow [DELAY]       a tarpit: each reply is held back DELAY (default 3s,
//	                   real time) so timeouts and patience can be seen
//	reject-next CODE   the next transaction's final reply (after the
//	                   message text) is CODE, e.g. 451 or 554; once
//
// Four more teach sender authentication; they change what the domain's
// mail looks like rather than its replies, and package server plays them
// (spam_scenario.go):
//
//	spoof              outgoing mail leaves unsigned from a forger's address
//	                   (203.0.113.66): SPF and DMARC fail at the receiver
//	forward ADDRESS    mail for the domain's users is also forwarded to
//	                   ADDRESS, envelope unchanged: SPF fails there, DKIM
//	                   survives, DMARC passes on DKIM
//	list-footer        a list appends a footer before the checks: the DKIM
//	                   body hash fails
//	open-relay         the domain relays for anyone; a spammer abuses it, it
//	                   is listed in bl.lab.test, its users' mail bounces
//
// An Engine holds one domain's current scenario and the little state some
// need (greylist triplets, whether reject-next fired). It is switched at
// start (`mailx serve --scenario hamburger.test=greylist`) and at run time
// (`mailx serve scenario hamburger.test down`, through the control
// endpoint). The SMTP server consults it through smtp.Policy at connect,
// MAIL, RCPT and the end of DATA, after its own checks, so a scenario only
// ever turns an acceptance into a refusal and never lets through what the
// server would refuse.
//
// Deterministic: nothing is random, and the clock is injectable; waits in
// lesson time are divided by the time scale (--time-scale), like the queue's.
//
// RFCs: 5321 (§3.8 421 and closing, §4.2.5 reply after DATA, §4.5.4.1 retry),
// 3463 (enhanced codes 4.2.2, 5.2.2, 4.7.1, 5.1.1, 4.3.2).
package scenario
