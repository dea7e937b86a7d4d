package server

import "fmt"

// junkTrainer trains the MTA's learning filter from IMAP moves and keywords
// (server/imap's JunkTrainer).
type junkTrainer struct{ m *MTA }

func (t junkTrainer) Learn(user string, msg []byte, spam bool) (string, error) {
	f := t.m.SpamFilter()
	if f == nil {
		return "not learnt: the spam checks are off on this server (mailx serve --checks on)", nil
	}
	r, err := f.Train(user, msg, spam)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s for %s (the filter now knows %d spam and %d ham)", r.Note, user, r.Spam, r.Ham), nil
}
