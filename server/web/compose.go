package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	mmime "github.com/mailx-edu/mailx/proto/mime"
)

// composeForm is what the compose page shows, filled in for a reply or a
// forward.
type composeForm struct {
	To, Cc, Bcc, Subject, Body string
	InReplyTo, References      string
	// FwdFolder and FwdUID name the message whose attachments a forward
	// carries along.
	FwdFolder string
	FwdUID    uint32
	FwdParts  []PartView
}

func (s *Server) composePage(w http.ResponseWriter, r *http.Request, se *session) {
	v := r.URL.Query()
	f := &composeForm{To: v.Get("to")}
	mode := ""
	switch {
	case v.Get("reply") != "":
		mode = "reply"
	case v.Get("replyall") != "":
		mode = "replyall"
	case v.Get("forward") != "":
		mode = "forward"
	}
	if mode != "" {
		folder := v.Get("folder")
		uid, err := strconv.ParseUint(v.Get(mode), 10, 32)
		if err != nil || folder == "" {
			http.Error(w, "reply and forward need folder= and the message's UID", http.StatusBadRequest)
			return
		}
		m, err := se.open(r.Context(), exchangeOf(r), folder, uint32(uid), false)
		if err != nil {
			s.fail(w, r, se, err)
			return
		}
		prefill(f, m, mode, se.user)
	}
	d := s.base(se, "Compose")
	d.Compose = f
	s.render(w, 200, "compose.html", d)
}

// prefill fills the form for a reply (To the sender, Re:, the text quoted,
// In-Reply-To and References for threading, RFC 5322 §3.6.4) or a forward
// (Fwd:, the original's header summary and text, its attachments).
func prefill(f *composeForm, m *Message, mode, user string) {
	subj := strings.TrimSpace(m.Subject)
	switch mode {
	case "reply", "replyall":
		to := m.replyTo
		if to == "" {
			to = m.fromAddr
		}
		f.To = to
		if mode == "replyall" {
			var cc []string
			for _, list := range []string{m.To, m.Cc} {
				as, _ := mail.ParseAddressList(list)
				for _, a := range as {
					if !strings.EqualFold(a.Address, to) && !strings.HasPrefix(strings.ToLower(a.Address), strings.ToLower(user)+"@") {
						cc = append(cc, a.Address)
					}
				}
			}
			f.Cc = strings.Join(cc, ", ")
		}
		if !strings.HasPrefix(strings.ToLower(subj), "re:") {
			subj = "Re: " + subj
		}
		f.InReplyTo = m.MessageID
		f.References = strings.TrimSpace(m.refs + " " + m.MessageID)
		var b strings.Builder
		fmt.Fprintf(&b, "\n\nOn %s, %s wrote:\n", m.Date, m.From)
		for _, l := range strings.Split(strings.TrimRight(m.Text, "\n"), "\n") {
			b.WriteString("> " + strings.TrimRight(l, "\r") + "\n")
		}
		f.Body = b.String()
	case "forward":
		if !strings.HasPrefix(strings.ToLower(subj), "fwd:") {
			subj = "Fwd: " + subj
		}
		f.Body = fmt.Sprintf("\n\n---------- Forwarded message ----------\nFrom: %s\nDate: %s\nSubject: %s\nTo: %s\n\n%s", m.From, m.Date, m.Subject, m.To, m.Text)
		f.FwdFolder, f.FwdUID = m.Folder, m.UID
		for _, p := range m.Parts {
			if p.Leaf && p.Disposition == "attachment" || p.Leaf && p.Filename != "" {
				f.FwdParts = append(f.FwdParts, p)
			}
		}
	}
	f.Subject = subj
}

// Outgoing is a message to send, from the compose form or the API.
type Outgoing struct {
	To, Cc, Bcc []string
	Subject     string
	Text        string
	HTML        string
	InReplyTo   string
	References  string
	Attachments []mmime.Attachment
}

// SendResult says what the bridge did with a message.
type SendResult struct {
	MessageID  string   `json:"message_id"`
	Recipients []string `json:"recipients"`
	SavedSent  bool     `json:"saved_in_sent"`
	Warning    string   `json:"warning,omitempty"`
}

// fromAddress is the sender address of a login name.
func (s *Server) fromAddress(user string) string {
	if strings.Contains(user, "@") || s.cfg.Domain == "" {
		return user
	}
	return user + "@" + s.cfg.Domain
}

// parseRecipients reads comma-separated address lists.
func parseRecipients(lists ...[]string) ([]string, error) {
	var out []string
	for _, list := range lists {
		for _, l := range list {
			if strings.TrimSpace(l) == "" {
				continue
			}
			as, err := mail.ParseAddressList(l)
			if err != nil {
				return nil, fmt.Errorf("%q is not a list of addresses such as bob@mailx.test, Carol <carol@mailx.test>", l)
			}
			for _, a := range as {
				out = append(out, a.Address)
			}
		}
	}
	return out, nil
}

// send composes o, submits it with AUTH and appends a copy to Sent.
func (se *session) send(ctx context.Context, ex *Exchange, o Outgoing) (*SendResult, error) {
	rcpts, err := parseRecipients(o.To, o.Cc, o.Bcc)
	if err != nil {
		return nil, &inputError{err.Error()}
	}
	if len(rcpts) == 0 {
		return nil, &inputError{"give at least one recipient, such as bob@mailx.test"}
	}
	if len(rcpts) > 100 {
		return nil, &inputError{"at most 100 recipients per message (RFC 5321 §4.5.3.1.8)"}
	}
	from := se.srv.fromAddress(se.user)
	o.To, o.Cc = nonEmpty(o.To), nonEmpty(o.Cc)
	msg := mmime.Message{From: from, To: o.To, Cc: o.Cc, Subject: o.Subject, Text: o.Text, HTML: o.HTML,
		Attachments: o.Attachments, CRLF: true}
	if o.InReplyTo != "" {
		msg.Headers = append(msg.Headers, mmime.Field{Name: "In-Reply-To", Value: o.InReplyTo})
	}
	if o.References != "" {
		msg.Headers = append(msg.Headers, mmime.Field{Name: "References", Value: o.References})
	}
	msg.Headers = append(msg.Headers, mmime.Field{Name: "User-Agent", Value: "mailx web"})
	msg.MessageID = mmime.NewMessageID(from)
	raw, err := mmime.Compose(msg)
	if err != nil {
		return nil, &inputError{err.Error()}
	}
	se.mu.Lock()
	pass := se.pass
	se.mu.Unlock()
	w := newWire(se.log, "smtp")
	w.use(ex)
	if err := se.srv.submit(ctx, w, se.user, pass, from, rcpts, raw); err != nil {
		return nil, err
	}
	res := &SendResult{MessageID: msg.MessageID, Recipients: rcpts, SavedSent: true}
	if err := se.saveSent(ctx, ex, raw); err != nil {
		res.SavedSent = false
		res.Warning = "sent, but the copy for Sent could not be saved: " + err.Error()
	}
	return res, nil
}

// inputError is a mistake in what the user typed.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func (s *Server) sendPost(w http.ResponseWriter, r *http.Request, se *session) {
	if err := r.ParseMultipartForm(4 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		http.Error(w, "the message is larger than "+strconv.FormatInt(s.cfg.MaxUpload>>20, 10)+" MiB with its attachments, or the form is broken", http.StatusRequestEntityTooLarge)
		return
	}
	f := &composeForm{To: r.FormValue("to"), Cc: r.FormValue("cc"), Bcc: r.FormValue("bcc"), Subject: r.FormValue("subject"),
		Body: r.FormValue("body"), InReplyTo: r.FormValue("in_reply_to"), References: r.FormValue("references")}
	o := Outgoing{To: []string{f.To}, Cc: []string{f.Cc}, Bcc: []string{f.Bcc}, Subject: f.Subject, Text: f.Body,
		InReplyTo: oneLine(f.InReplyTo), References: oneLine(f.References)}
	var total int64
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["attach"] {
			if fh.Size == 0 && fh.Filename == "" {
				continue
			}
			total += fh.Size
			file, err := fh.Open()
			if err != nil {
				http.Error(w, "cannot read the attachment "+fh.Filename, http.StatusBadRequest)
				return
			}
			b, _ := io.ReadAll(file)
			file.Close()
			o.Attachments = append(o.Attachments, mmime.Attachment{Name: fh.Filename, Reader: bytes.NewReader(b)})
		}
	}
	// A forward carries the original's attachments the user kept ticked.
	if fwd := r.FormValue("fwd_folder"); fwd != "" {
		uid, err := strconv.ParseUint(r.FormValue("fwd_uid"), 10, 32)
		if err == nil {
			m, err := se.open(r.Context(), exchangeOf(r), fwd, uint32(uid), false)
			if err != nil {
				s.fail(w, r, se, err)
				return
			}
			for _, num := range r.Form["fwd_part"] {
				if p, content, ok := m.part(num); ok {
					total += int64(len(content))
					o.Attachments = append(o.Attachments, mmime.Attachment{Name: mmime.SafeFilename(p.Filename, p.Number, p.ContentType), ContentType: p.ContentType, Reader: bytes.NewReader(content)})
				}
			}
		}
	}
	if total > s.cfg.MaxUpload {
		http.Error(w, "the attachments are larger than "+strconv.FormatInt(s.cfg.MaxUpload>>20, 10)+" MiB", http.StatusRequestEntityTooLarge)
		return
	}
	_, err := se.send(r.Context(), exchangeOf(r), o)
	if err != nil {
		d := s.base(se, "Compose")
		d.Compose = f
		var ie *inputError
		var sendErr *SendError
		status := http.StatusBadGateway
		switch {
		case errors.As(err, &ie):
			status = http.StatusBadRequest
			d.Error = ie.msg
		case errors.As(err, &sendErr):
			status = http.StatusBadRequest
			d.Error = sendErr.Error() + " (the bridge pane shows the whole exchange)"
		case errors.Is(err, errLogin):
			d.Error = "the submission server refused your password (535); nothing was sent"
		default:
			d.Error = err.Error()
		}
		s.render(w, status, "compose.html", d)
		return
	}
	http.Redirect(w, r, folderURL("INBOX")+"?done=sent", http.StatusSeeOther)
}

// oneLine keeps a header value from carrying a line break into the header.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
