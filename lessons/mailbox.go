package lessons

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mailx-edu/mailx/server/maildir"
)

// StoredMessage is a message found in a lab mailbox, decoded enough for checks.
type StoredMessage struct {
	File    string
	Header  mail.Header
	Body    string
	Subject string // RFC 2047 decoded
}

// ReadMailbox returns the messages in one folder ("" or "INBOX" for the
// inbox, else a Maildir++ folder name) of user in a serve data directory.
// It reads the files directly, so it works on a stopped lab as well as on a
// running one.
func ReadMailbox(dataDir, user, folder string) ([]StoredMessage, error) {
	root := maildir.Root(dataDir, user)
	if folder != "" && !strings.EqualFold(folder, "INBOX") {
		if strings.ContainsAny(folder, `/\`) || strings.Contains(folder, "..") {
			return nil, fmt.Errorf("lessons: folder name %q is not allowed", folder)
		}
		root = filepath.Join(root, "."+folder)
	}
	var files []string
	for _, sub := range []string{maildir.New, maildir.Cur} {
		entries, err := os.ReadDir(filepath.Join(root, sub))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("lessons: read mailbox: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				files = append(files, filepath.Join(root, sub, e.Name()))
			}
		}
	}
	sort.Strings(files)
	var out []StoredMessage
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			if os.IsNotExist(err) { // moved between new/ and cur/ while we looked
				continue
			}
			return nil, fmt.Errorf("lessons: read message: %w", err)
		}
		// Deleted-but-not-expunged messages still count: the check is about what
		// the server holds.
		m, err := mail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			out = append(out, StoredMessage{File: f, Body: string(data)})
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(m.Body, 1<<20))
		subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			subj = m.Header.Get("Subject")
		}
		out = append(out, StoredMessage{File: f, Header: m.Header, Body: string(body), Subject: subj})
	}
	return out, nil
}

// decodedHeader returns a header's value with RFC 2047 words decoded.
func (m StoredMessage) decodedHeader(name string) string {
	if m.Header == nil {
		return ""
	}
	v := m.Header.Get(name)
	if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// isBounce reports whether the message is a delivery status notification.
func (m StoredMessage) isBounce() bool {
	ct := strings.ToLower(m.Header.Get("Content-Type"))
	return strings.Contains(ct, "multipart/report") && strings.Contains(ct, "delivery-status")
}

// envelopeSender is the envelope sender the delivering server recorded in
// Return-Path (RFC 5321 §4.4), without angle brackets; "" for a bounce.
func (m StoredMessage) envelopeSender() string {
	if m.Header == nil {
		return ""
	}
	rp := strings.TrimSpace(m.Header.Get("Return-Path"))
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(rp, "<"), ">"))
}

// fieldMisses says why no instance of header field name contains all of
// words (case-insensitively, across folded lines), or "" when one does.
func (m StoredMessage) fieldMisses(name string, words []string) string {
	var values []string
	if m.Header != nil {
		values = m.Header[textproto.CanonicalMIMEHeaderKey(name)]
	}
	if len(values) == 0 {
		return fmt.Sprintf("it has no %s field", name)
	}
	last := ""
	for _, v := range values {
		if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
			v = d
		}
		v = strings.Join(strings.Fields(v), " ")
		if w := missingWord(v, words); w != "" {
			last = w
			continue
		}
		return ""
	}
	return fmt.Sprintf("its %s field does not show %s", name, last)
}
