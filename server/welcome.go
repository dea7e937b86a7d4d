package server

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/server/maildir"
)

// welcomeUnique is the welcome message's fixed Maildir name: delivering it
// again after a crash half-way through the first start finds it instead of
// writing a second copy.
const welcomeUnique = "mailx-welcome"

// createMaildir creates user's Maildir and, when the Maildir is new and
// Config.Welcome is set, delivers the welcome message into its INBOX: the
// course's first POP3 session (user, pass, list, retr 1) then finds mail on a
// fresh practice server without anybody sending any first.
func (m *MTA) createMaildir(user string) error {
	root := maildir.Root(m.cfg.Data, user)
	_, statErr := os.Stat(filepath.Join(root, maildir.New))
	isNew := errors.Is(statErr, os.ErrNotExist)
	if err := maildir.Create(root); err != nil {
		return err
	}
	if !isNew || !m.cfg.Welcome {
		return nil
	}
	if _, found, _ := maildir.Find(root, welcomeUnique); found {
		return nil
	}
	msg := welcomeMessage(m.cfg, user, time.Now())
	_, err := maildir.Deliver(root, bytes.NewReader(msg), maildir.DeliverOptions{Unique: welcomeUnique})
	if err != nil {
		return fmt.Errorf("welcome message: %w", err)
	}
	m.log.Info("welcome message delivered", "user", user)
	return nil
}

// welcomeMessage is the message a new account finds in its INBOX: from
// postmaster@ the primary domain, saying what to try with the addresses this
// server was told to listen on.
func welcomeMessage(cfg Config, user string, now time.Time) []byte {
	domain := cfg.Domains[0]
	port := func(addr, fallback string) string {
		if off(addr) {
			return ""
		}
		if _, p, err := net.SplitHostPort(addr); err == nil && p != "0" {
			return addr
		}
		return fallback
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\r\n", a...) }
	w("Return-Path: <>")
	w("From: Postmaster <postmaster@%s>", domain)
	w("To: %s@%s", user, domain)
	w("Subject: Welcome to your practice mailbox")
	w("Date: %s", now.Format(time.RFC1123Z))
	w("Message-ID: <welcome.%s.%d@%s>", user, now.UnixNano(), domain)
	w("MIME-Version: 1.0")
	w("Content-Type: text/plain; charset=utf-8")
	w("Content-Transfer-Encoding: 8bit")
	w("")
	w("Hello %s,", user)
	w("")
	w("this is %s@%s, a mailbox on a practice mail server (mailx serve).", user, domain)
	w("This message was put here when the mailbox was created, so that you")
	w("have something to read on your first try. Things to try:")
	w("")
	if a := port(cfg.POP3Addr, "HOST:PORT (the POP3 address in the server's banner)"); a != "" {
		w("- Read it over POP3, by hand:   mailx pop3 talk %s", a)
		w("    user %s / pass <your password> / list / retr 1 / dele 1 / quit", user)
	}
	if a := port(cfg.IMAPAddr, "HOST:PORT (the IMAP address in the server's banner)"); a != "" {
		w("- Read it over IMAP:            mailx imap talk %s", a)
		w("    login %s <password> / select INBOX / fetch 1 body[] / logout", user)
	}
	if a := port(cfg.SMTPAddr, "HOST:PORT (the SMTP address in the server's banner)"); a != "" {
		w("- Send mail by typing SMTP:     mailx smtp talk %s", a)
		w("    EHLO me / MAIL FROM:<%s@%s> / RCPT TO:<someone@%s> / DATA / ... / QUIT", user, domain, domain)
	}
	w("- Take this message apart:      mailx mime decode FILE (the file is in")
	w("  the Maildir's new/ or cur/ folder)")
	w("- Guided labs that check each step: mailx lessons")
	w("")
	w("Delete this message whenever you like: it is not sent again.")
	w("")
	w("-- ")
	w("Postmaster, %s", domain)
	return []byte(b.String())
}
