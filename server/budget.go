package server

import (
	"github.com/mailx-edu/mailx/server/access"
)

// sessionBudget makes the one session budget of every listener: the
// configured total (Limits.Sessions, default 1000) and per-client cap
// (Limits.SessionsPerClient, default 100 per protocol), kept well under the
// process's descriptor limit, which it first raises to the hard limit. The
// listeners, the log, the queue and the transcripts then always find a
// descriptor, however many clients connect.
func (m *MTA) sessionBudget() *access.Budget {
	lim := m.cfg.Limits.WithDefaults()
	total := lim.Sessions
	files := access.RaiseFileLimit()
	if most := access.SessionsForFiles(files); most > 0 && total > most {
		m.log.Warn("session budget lowered to fit the open-file limit",
			"configured", total, "budget", most, "open_files", files,
			"hint", "raise the hard limit (ulimit -Hn, or LimitNOFILE= in a systemd unit) to allow more")
		total = most
	}
	b := access.NewBudget(total, lim.SessionsPerClient)
	m.log.Info("session budget", "sessions", b.Total(), "per_client", b.PerClient(), "open_files", files)
	return b
}
