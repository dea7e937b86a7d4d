"""Drive mailx's POP3 server with Python's poplib, a client nobody here wrote.

usage: poplib_session.py HOST PORT
Prints one line per step; exits non-zero on any surprise.
"""
import poplib
import sys

host, port = sys.argv[1], int(sys.argv[2])
p = poplib.POP3(host, port, timeout=20)
print("welcome", p.getwelcome().decode())
caps = p.capa()
assert "UIDL" in caps and "TOP" in caps, caps
p.user("alice")
p.pass_("hungry")
count, size = p.stat()
print("stat", count, size)
resp, listing, _ = p.list()
print("list", [l.decode() for l in listing])
resp, lines, octets = p.retr(1)
body = b"\r\n".join(lines) + b"\r\n"
print("retr1", octets, len(body))
assert octets == len(body), (octets, len(body))
resp, lines, _ = p.retr(2)
assert lines[4] == b".hidden line", lines  # poplib undoes byte-stuffing
print("retr2", lines[2].decode())
resp, uidl, _ = p.uidl()
print("uidl", len(uidl))
p.dele(1)
p.quit()

p = poplib.POP3(host, port, timeout=20)
p.user("alice")
p.pass_("hungry")
count, size = p.stat()
print("after", count)
assert count == 1, count
p.quit()
print("done")
