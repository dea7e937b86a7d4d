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

// FuzzScanRecords feeds damaged journal segments to the replay's scanner: it
// must never panic nor read past the segment, every record it accepts must
// lie inside it, and its sequence numbers must follow each other from the
// segment's first.
func FuzzScanRecords(f *testing.F) {
	var seg []byte
	for seq := uint64(1); seq <= 3; seq++ {
		eb, _ := json.Marshal(journalRecord{ID: "0000000000000001", Deliveries: []journalDelivery{{Rcpt: "bob@mx.test", User: "bob", Unique: "1.Q0000000000000001R0.h"}}})
		r := encodeRecord(kindMessage, eb, []byte("Subject: x\r\n\r\nhi\r\n"), seq)
		seg = append(seg, r...)
	}
	f.Add(seg)
	// A record of kind 2 (a cancel, written only by development builds of
	// 2026-11-22) ends the scan.
	f.Add(append(seg, encodeRecord(2, nil, []byte{0, 0, 0, 0, 0, 0, 0, 2}, 4)...))
	f.Add(seg[:len(seg)-3])
	f.Add(seg[:recordHeaderLen])
	f.Add([]byte(recordMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var total int64
		var prev uint64
		n := 0
		end := scanRecords(bytes.NewReader(b), int64(len(b)), 1, func(seq uint64, env, data []byte) {
			if n == 0 && seq != 1 || n > 0 && seq != prev+1 {
				t.Fatalf("record %d follows %d", seq, prev)
			}
			prev = seq
			n++
			total += recordHeaderLen + int64(len(env)+len(data))
		})
		if end != total || end > int64(len(b)) {
			t.Fatalf("scan ended at %d after %d octets of records in %d", end, total, len(b))
		}
	})
}
