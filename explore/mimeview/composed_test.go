package mimeview

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/mime"
)

// compose builds a message as `mailx mime encode --explain` does and
// returns it with the annotated view.
func compose(t *testing.T, m mime.Message, o render.Options) (msg, out string) {
	t.Helper()
	m.Date = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m.MessageID = "<1@crepes.test>"
	var b bytes.Buffer
	lay, err := mime.Encode(&b, m)
	if err != nil {
		t.Fatalf("mime.Encode: %v", err)
	}
	var v bytes.Buffer
	if err := Composed(render.New(&v, o), b.Bytes(), lay); err != nil {
		t.Fatalf("Composed: %v", err)
	}
	return b.String(), v.String()
}

func TestComposedWithAttachment(t *testing.T) {
	bin := bytes.Repeat([]byte{0, 1, 2, 250}, 200) // 800 bytes: 15 lines of base64
	msg, out := compose(t, mime.Message{
		From: "Alice <alice@crepes.test>", To: []string{"bob@hamburger.test"}, Subject: "Crêpe",
		Text:        "Dear Bob,\nhere it is.\n",
		Attachments: []mime.Attachment{{Name: "crepe.bin", ContentType: "application/octet-stream", Reader: bytes.NewReader(bin)}},
	}, render.Options{})
	boundary := msg[strings.Index(msg, `boundary="`)+len(`boundary="`):]
	boundary = boundary[:strings.IndexByte(boundary, '"')]

	// Every message line is shown after "| ", in order, with the notes
	// where each part starts and why it was encoded as it was.
	inOrder(t, out,
		"| Subject: =?utf-8?q?Cr=C3=AApe?=",
		"| MIME-Version: 1.0",
		"| --"+boundary,
		"   note: a boundary line: part 1 starts here; its header follows  [RFC 2046 §5.1.1]",
		"| Dear Bob,",
		"| here it is.",
		"| --"+boundary,
		"   note: a boundary line: part 2 starts here; its header follows  [RFC 2046 §5.1.1]",
		"| Content-Type: application/octet-stream; name=crepe.bin",
		"| ",
		"| --"+boundary+"--",
		"   note: the closing boundary: the multipart body ends here  [RFC 2046 §5.1.1]",
	)
	lineWith(t, out, "note: part 1: 7bit: plain ASCII in short lines")
	lineWith(t, out, "note: part 2: type application/octet-stream as given; base64")
	lineWith(t, out, "note: the message body: multipart/mixed")

	// A base64 body is cut to its first 3 lines, and the count of the
	// lines left out is exact: 15 lines and the blank line before the
	// closing boundary, less the 3 shown.
	var b64 []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| AAEC") || strings.HasPrefix(l, "| AQL6") || strings.HasPrefix(l, "| Avo") || strings.HasPrefix(l, "| +gAB") {
			b64 = append(b64, l)
		}
	}
	if len(b64) != 3 {
		t.Errorf("%d base64 lines shown; want 3:\n%s", len(b64), out)
	}
	inOrder(t, out, "| ... 13 more lines of base64", "| --"+boundary+"--")

	// Header fields are explained once each; Content-* ones by the part notes.
	if n := strings.Count(out, "note: From:"); n != 1 {
		t.Errorf("From explained %d times", n)
	}
	if strings.Contains(out, "note: Content-Type:") {
		t.Errorf("Content-Type explained as a field; the part notes explain it:\n%s", out)
	}
}

func TestComposedTextOnly(t *testing.T) {
	long := strings.Repeat("a line of text\n", 40)
	_, out := compose(t, mime.Message{From: "alice@crepes.test", To: []string{"bob@hamburger.test"}, Text: long}, render.Options{})
	// A single-part message has no boundaries; its one part is part 1.
	if strings.Contains(out, "boundary") {
		t.Errorf("boundary notes in a single-part message:\n%s", out)
	}
	inOrder(t, out, "| Content-Transfer-Encoding: 7bit", "| ")
	lineWith(t, out, "note: part 1: 7bit: plain ASCII in short lines")
	// Text is cut after 30 lines; the rest is counted, not shown.
	if n := strings.Count(out, "| a line of text"); n != 30 {
		t.Errorf("%d text lines shown; want 30", n)
	}
	inOrder(t, out, "| ... 10 more lines of 7bit")
}

func TestComposedJSON(t *testing.T) {
	msg, out := compose(t, mime.Message{From: "alice@crepes.test", To: []string{"bob@hamburger.test"}, Text: "hi\n", HTML: "<p>hi</p>\n"},
		render.Options{JSON: true})
	var got struct {
		Message string `json:"message"`
		Layout  struct {
			Parts []struct {
				Number      string `json:"number"`
				ContentType string `json:"content_type"`
			} `json:"parts"`
		} `json:"layout"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("JSON mode wrote something that is not one JSON document: %v\n%s", err, out)
	}
	if got.Message != msg {
		t.Errorf("JSON message differs from the composed one")
	}
	if len(got.Layout.Parts) != 3 || got.Layout.Parts[0].ContentType != "multipart/alternative" ||
		got.Layout.Parts[1].Number != "1" || !strings.HasPrefix(got.Layout.Parts[2].ContentType, "text/html") {
		t.Errorf("layout = %+v; want the alternative and its two parts", got.Layout.Parts)
	}
}
