// Package maildir stores and reads mail in Maildir folders, the format mutt,
// Dovecot, Courier and Postfix's local delivery share: one file per message,
// so delivery needs no locks and a crash can corrupt at most the message
// being written.
//
// A Maildir is a directory with three subdirectories. A deliverer writes a
// message in tmp/ under a unique name, fsyncs it and renames it into new/;
// a reader that has seen a message moves it to cur/ and records flags in
// the info part of its name ("…:2,RS": replied, seen). Maildir++ adds
// folders as hidden subdirectories (".Sent", ".Drafts", ".Trash") with the
// same layout. mailx keeps each account's Maildir at DATA/mail/<user>/.
//
// Delivery (Deliver) is used by the server's queue; reading, flags and IMAP
// UIDs are used by the POP3 and IMAP servers. On Windows, where ':' cannot
// appear in a file name, the info separator is ';' (InfoSep); readers accept
// both. Files are stored with LF line endings and carry their sizes in the
// name (",S=" on disk, ",W=" with CRLF) so listing a mailbox needs no reads.
//
// It shares a Maildir with Dovecot and Courier: folder directories are
// named in modified UTF-7 (".Entw&APw-rfe" for "Entwürfe"; older UTF-8
// names are renamed once), keywords are the lower-case info letters named
// in the folder's dovecot-keywords file, and UIDs are read from Dovecot's
// dovecot-uidlist when mailx takes over a folder and copied into it for
// Dovecot. mailx's own index, mailx-uidlist, is the authority: written in
// group commits outside the folder lock, at most once a second unless it
// must be durable (a file appended by IMAP carries its UID in its name,
// ",U=", so a crash cannot renumber it; before such a file is removed the
// index is made durable with a reservation of the next UIDs, so none is
// ever given twice).
//
// What it is not: a general mailbox library (no mbox, no MH), and it does no
// protocol work. It follows the Maildir specification
// (https://cr.yp.to/proto/maildir.html), the Maildir++ folder convention,
// RFC 5321 §4.4 for the Return-Path a final delivery adds, RFC 3501
// §5.1.3 for folder names and §2.3.2 for \Recent, and Dovecot's Maildir
// conventions (https://doc.dovecot.org/admin_manual/mailbox_formats/maildir/).
package maildir
