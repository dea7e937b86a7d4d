package queue

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadMessageFile feeds damaged queue files to the recovery reader: it
// must never panic nor allocate beyond its bounds, and it may accept a file
// only if the file is exactly data, envelope and a matching footer.
func FuzzReadMessageFile(f *testing.F) {
	good := func(data string, env Envelope) []byte {
		eb, _ := json.Marshal(fileRecord{ID: "0000000000000001", Envelope: env})
		var b bytes.Buffer
		b.WriteString(data)
		b.Write(eb)
		b.Write(encodeFooter(int64(len(data)), len(eb), crc32.Checksum([]byte(data), castagnoli), crc32.Checksum(eb, castagnoli)))
		return b.Bytes()
	}
	seed := good("Subject: x\r\n\r\nhi\r\n", Envelope{From: "a@b.test", To: []string{"bob@mx.test"}})
	f.Add(seed)
	f.Add(seed[:len(seed)-1])
	f.Add(seed[:len(seed)-footerLen])
	f.Add(good("", Envelope{To: []string{"x@y"}}))
	f.Add(good("data", Envelope{}))
	f.Add([]byte(footerMagic))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "m")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		rec, n, err := readMessageFile(p, true)
		if err != nil {
			return
		}
		if len(rec.To) == 0 || rec.ID != "0000000000000001" || n < 0 || n+footerLen > int64(len(b)) {
			t.Fatalf("accepted an invalid file: %+v, data length %d of %d", rec, n, len(b))
		}
	})
}
