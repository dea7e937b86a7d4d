package mime

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bigMessage composes a message of about size bytes: a short text and
// base64 attachments of random (incompressible) bytes, like photos.
func bigMessage(tb testing.TB, size int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewSource(1))
	m := Message{From: "alice@crepes.fr", To: []string{"bob@hamburger.edu"}, Subject: "Holiday photos", Text: "Here they are.\n",
		Date: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), MessageID: "<big@crepes.fr>", CRLF: true}
	per := size * 3 / 4 / 5
	for i := 0; i < 5; i++ {
		data := make([]byte, per)
		rng.Read(data)
		m.Attachments = append(m.Attachments, Attachment{Name: fmt.Sprintf("photo%d.jpg", i), Reader: bytes.NewReader(data)})
	}
	raw, err := Compose(m)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// BenchmarkParse20MB decodes a 20 MB message with base64 attachments,
// streaming every attachment to io.Discard as --extract would to files.
// It reports throughput (MB/s of input) and the peak heap in use while
// parsing, sampled every 5 ms, beside allocations per run.
func BenchmarkParse20MB(b *testing.B) {
	raw := bigMessage(b, 20<<20)
	opts := Options{OnPart: func(p *Part, c io.Reader) error {
		_, err := io.Copy(io.Discard, c)
		return err
	}}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond): // ReadMemStats stops the world: not too often
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tree, err := Parse(bytes.NewReader(raw), opts)
		if err != nil || len(tree.Body.Parts) != 6 {
			b.Fatalf("Parse: %v", err)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	// The input itself (held by the benchmark, not by Parse) is left out.
	b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak-heap-MB")
}

// BenchmarkCompose20MB measures encoding the same message.
func BenchmarkCompose20MB(b *testing.B) {
	data := make([]byte, 3<<20)
	rand.New(rand.NewSource(1)).Read(data)
	b.SetBytes(int64(len(data)) * 5)
	for i := 0; i < b.N; i++ {
		m := Message{From: "alice@crepes.fr", MessageID: "<big@crepes.fr>"}
		for j := 0; j < 5; j++ {
			m.Attachments = append(m.Attachments, Attachment{Name: "photo.jpg", Reader: bytes.NewReader(data)})
		}
		if _, err := Encode(io.Discard, m); err != nil {
			b.Fatal(err)
		}
	}
}
