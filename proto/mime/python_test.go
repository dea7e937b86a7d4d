package mime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// pyParse is a small Python program that parses a message with Python's
// own email package (an independent implementation) and prints what it
// found: the subject and sender decoded, and every leaf part's type,
// file name and decoded bytes.
const pyParse = `
import sys, json, base64, email
from email import policy
out = []
for name in sys.argv[1:]:
    msg = email.message_from_binary_file(open(name, 'rb'), policy=policy.default)
    parts = []
    for p in msg.walk():
        if p.is_multipart():
            continue
        parts.append({'type': p.get_content_type(), 'filename': p.get_filename() or '',
                      'data': base64.b64encode(p.get_payload(decode=True)).decode()})
    out.append({'subject': str(msg['subject']), 'from': str(msg['from']),
                'defects': [str(d) for d in msg.defects], 'parts': parts})
print(json.dumps(out))
`

type pyResult struct {
	Subject string   `json:"subject"`
	From    string   `json:"from"`
	Defects []string `json:"defects"`
	Parts   []struct {
		Type     string `json:"type"`
		Filename string `json:"filename"`
		Data     []byte `json:"data"`
	} `json:"parts"`
}

// TestPythonParsesCompose checks that Python's email package reads what
// Compose writes exactly as Parse does: same parts, types, file names and
// decoded bytes.
func TestPythonParsesCompose(t *testing.T) {
	py := testkit.NeedCommand(t, "python3", "python3") // the independent parser this test compares with
	rng := rand.New(rand.NewSource(7))
	dir := t.TempDir()
	script := filepath.Join(dir, "parse.py")
	os.WriteFile(script, []byte(pyParse), 0o644)
	const n = 16
	var msgs []Message
	var raws [][]byte
	args := []string{script}
	for i := 0; i < n; i++ {
		bin := make([]byte, rng.Intn(4000)+1)
		rng.Read(bin)
		m := Message{
			From:      "Zoë Ünal <zoe@crepes.fr>",
			To:        []string{"bob@hamburger.edu"},
			Subject:   "Crêpes ☕ " + randText(rng, 60),
			Text:      randBody(rng) + "\n",
			CRLF:      i%2 == 0,
			Date:      time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
			MessageID: "<py@crepes.fr>",
			Attachments: []Attachment{
				{Name: "crêpe " + randText(rng, 40) + ".jpg", Reader: bytes.NewReader(bin)},
				{Name: "notes.txt", Reader: bytes.NewReader([]byte("plain notes\n"))},
			},
		}
		if i%3 == 0 {
			m.HTML = "<p>" + randBody(rng) + "</p>\n"
		}
		raw, err := Compose(m)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, fmt.Sprintf("m%d.eml", i))
		os.WriteFile(file, raw, 0o644)
		args = append(args, file)
		msgs, raws = append(msgs, m), append(raws, raw)
	}
	// One python3 run for all the messages: starting it costs most of the time.
	out, err := exec.Command(py, args...).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var results []pyResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != n {
		t.Fatalf("python output %s: %v", out, err)
	}
	for i, got := range results {
		m, raw := msgs[i], raws[i]
		tree, content := parseCollect(t, bytes.NewReader(raw))
		if got.Subject != m.Subject || got.Subject != Get(tree.Headers, "Subject") {
			t.Errorf("case %d: subject python %q, ours %q, want %q", i, got.Subject, Get(tree.Headers, "Subject"), m.Subject)
		}
		if got.From != `Zoë Ünal <zoe@crepes.fr>` {
			t.Errorf("case %d: python reads From as %q", i, got.From)
		}
		if len(got.Defects) > 0 {
			t.Errorf("case %d: python found defects: %v", i, got.Defects)
		}
		var ours []*Part
		tree.Body.Walk(func(p *Part) {
			if !p.IsMultipart() {
				ours = append(ours, p)
			}
		})
		if len(ours) != len(got.Parts) {
			t.Fatalf("case %d: python sees %d parts, we see %d", i, len(got.Parts), len(ours))
		}
		for j, p := range ours {
			g := got.Parts[j]
			if g.Type != p.ContentType || g.Filename != p.Filename || !bytes.Equal(g.Data, content[p.Number]) {
				t.Errorf("case %d part %s: python %s %q %d bytes, ours %s %q %d bytes", i, p.Number,
					g.Type, g.Filename, len(g.Data), p.ContentType, p.Filename, len(content[p.Number]))
			}
		}
	}
}
