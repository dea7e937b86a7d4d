package server

import (
	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/imap"
	"github.com/mailx-edu/mailx/server/pop3"
	"github.com/mailx-edu/mailx/server/smtp"
)

// The access side of the MTA: POP3 and IMAP (and their implicit-TLS
// variants) over the users' Maildirs, with the same accounts, certificate,
// login throttle, session ids and trace as SMTP. New adds it after SMTP.
func (m *MTA) addAccess() error {
	cfg := m.Config()
	// What POP3 and IMAP share; each gets its own logger.
	shared := func(component string) access.MailboxServer {
		return access.MailboxServer{
			Hostname:  cfg.Hostname,
			Accounts:  m.Directory(),
			MailRoot:  m.MailRoot,
			Settler:   journalSettler{m},
			TLS:       m.TLSConfig(),
			Throttle:  m.Throttle,
			Budget:    m.Budget,
			Trace:     m.Trace(),
			Logger:    m.Logger().With("component", component),
			SessionID: m.SessionID,
		}
	}
	if !off(cfg.POP3Addr) || !off(cfg.POP3SAddr) {
		p := pop3.New(pop3.Config{MailboxServer: shared("pop3"), Timeout: cfg.POP3Timeout})
		if !off(cfg.POP3Addr) {
			m.AddService(&Service{Name: "pop3", Addr: cfg.POP3Addr, Serve: p.Serve, Shutdown: p.Shutdown})
		}
		if !off(cfg.POP3SAddr) {
			m.AddService(&Service{Name: "pop3s", Addr: cfg.POP3SAddr, ImplicitTLS: true, Serve: p.Serve, Shutdown: p.Shutdown})
		}
	}
	if !off(cfg.IMAPAddr) || !off(cfg.IMAPSAddr) {
		i := imap.New(imap.Config{
			MailboxServer: shared("imap"),
			Autologout:    cfg.IMAPAutologout,
			// APPEND honours min_free_disk as SMTP does (issue 21).
			MinFreeDisk: cfg.Limits.WithDefaults().MinFreeDisk,
			DiskFree:    func() (uint64, error) { return smtp.DiskFree(cfg.Data) },
		})
		i.SetJunkTrainer(junkTrainer{m}) // spam_train.go
		if !off(cfg.IMAPAddr) {
			m.AddService(&Service{Name: "imap", Addr: cfg.IMAPAddr, Serve: i.Serve, Shutdown: i.Shutdown})
		}
		if !off(cfg.IMAPSAddr) {
			m.AddService(&Service{Name: "imaps", Addr: cfg.IMAPSAddr, ImplicitTLS: true, Serve: i.Serve, Shutdown: i.Shutdown})
		}
	}
	return nil
}
