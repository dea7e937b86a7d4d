"""Drive mailx's IMAP server with Python's imaplib, a client nobody here wrote.

usage: imaplib_session.py HOST PORT
select, search, fetch, store \\Seen, copy, expunge, append; exits non-zero
on any surprise.
"""
import imaplib
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
m = imaplib.IMAP4(host, port, timeout=20)
assert "STARTTLS" in m.capabilities, m.capabilities
m.login("alice", "hungry")
typ, data = m.list()
names = b" ".join(data).decode()
for want in ("INBOX", "Sent", "Drafts", "Trash"):
    assert want in names, names
typ, data = m.select("INBOX")
assert typ == "OK" and data[0] == b"2", data
typ, data = m.search(None, "UNSEEN")
assert data[0].split() == [b"1", b"2"], data
typ, data = m.search(None, "SUBJECT", "lunch")
assert data[0] == b"1", data
typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE FLAGS)")
assert b"Subject: lunch" in data[0][1], data
typ, data = m.fetch("1", "(RFC822)")
assert b"Are you hungry?" in data[0][1], data
typ, data = m.store("2", "+FLAGS", "\\Seen")
assert b"\\Seen" in data[0], data
typ, data = m.search(None, "SEEN")
assert data[0].split() == [b"1", b"2"], data
typ, data = m.copy("1", "Trash")
assert typ == "OK", data
typ, data = m.store("1", "+FLAGS", "\\Deleted")
typ, data = m.expunge()
assert data == [b"1"], data
msg = b"From: alice@mx.test\r\nTo: bob@mx.test\r\nSubject: sent by imaplib\r\n\r\nhello\r\n"
typ, data = m.append("Sent", "\\Seen", imaplib.Time2Internaldate(time.time()), msg)
assert typ == "OK" and b"APPENDUID" in data[0], data
typ, data = m.status("Sent", "(MESSAGES)")
assert b"MESSAGES 1" in data[0], data
typ, data = m.status("Trash", "(MESSAGES)")
assert b"MESSAGES 1" in data[0], data
m.logout()
print("done")
