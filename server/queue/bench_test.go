package queue

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchCommit commits b.N messages of size bytes from sessions goroutines and
// reports durable commits per second: the rate at which an SMTP server
// could answer 250.
func benchCommit(b *testing.B, size, sessions int, deliver bool) {
	data := b.TempDir()
	q, err := Open(Options{Data: data, Resolve: localUsers})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	if deliver {
		q.Start(context.Background())
	}
	body := append([]byte("Subject: bench\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\r\n"), size/65+1)[:size]...)
	env := Envelope{From: "a@far.test", To: []string{"bob@mx.test"}, Received: time.Now()}
	var next atomic.Int64
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	start := time.Now()
	done := make(chan struct{})
	for s := 0; s < sessions; s++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for next.Add(1) <= int64(b.N) {
				w, err := q.Begin()
				if err != nil {
					b.Error(err)
					return
				}
				w.Write(body)
				if _, err := w.Commit(env); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for s := 0; s < sessions; s++ {
		<-done
	}
	if deliver {
		for len(q.List()) > 0 {
			time.Sleep(time.Millisecond)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
}

func BenchmarkCommit(b *testing.B) {
	for _, sessions := range []int{1, 20} {
		for _, size := range []int{1 << 10, 100 << 10} {
			b.Run("sessions="+strconv.Itoa(sessions)+"/size="+strconv.Itoa(size>>10)+"k", func(b *testing.B) { benchCommit(b, size, sessions, false) })
		}
	}
}

// BenchmarkCommitAndDeliver measures end to end: committed and in the
// Maildir, with the queue emptied. The queue is started and the one
// recipient is local, so every message takes the fast path (the journal,
// then the Maildir before Commit returns, with the journal's checkpoints);
// BenchmarkCommit, on a queue that is not started, measures the slot
// commit alone.
func BenchmarkCommitAndDeliver(b *testing.B) {
	for _, sessions := range []int{1, 20} {
		b.Run("sessions="+strconv.Itoa(sessions)+"/size=1k", func(b *testing.B) { benchCommit(b, 1<<10, sessions, true) })
	}
}
