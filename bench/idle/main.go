package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:2525", "SMTP server (loopback only)")
	n := flag.Int("n", 10000, "idle sessions to open")
	pid := flag.Int("pid", 0, "server process id, to read its RSS from /proc")
	hold := flag.Duration("hold", 2*time.Second, "how long to hold the sessions after the last one opened")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintln(os.Stderr, "idle: -addr must be a loopback HOST:PORT")
		os.Exit(2)
	}
	if runtime.GOOS != "linux" || *pid == 0 {
		fmt.Fprintln(os.Stderr, "idle: needs Linux and -pid to measure RSS")
		os.Exit(2)
	}
	before := rssKB(*pid)
	conns := make([]net.Conn, *n)
	var opened, failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
			if err == nil {
				c.SetReadDeadline(time.Now().Add(30 * time.Second))
				var line string
				line, err = bufio.NewReader(c).ReadString('\n')
				if err == nil && !strings.HasPrefix(line, "220") {
					err = fmt.Errorf("greeting %q", strings.TrimSpace(line))
				}
				if err != nil {
					c.Close()
				}
			}
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			conns[i] = c
			opened.Add(1)
		}(i)
	}
	wg.Wait()
	took := time.Since(start)
	time.Sleep(*hold)
	after := rssKB(*pid)
	// Check the sessions are still there: a server that dropped them would
	// look cheap.
	alive := 0
	for _, c := range conns {
		if c == nil {
			continue
		}
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				alive++
			}
		}
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	fmt.Printf("idle sessions: %d opened in %.1fs, %d still open after %s, %d failed", opened.Load(), took.Seconds(), alive, *hold, failed.Load())
	if e := firstErr.Load(); e != nil {
		fmt.Printf(" (first error: %s)", e)
	}
	fmt.Printf("\nserver RSS: %.1f MB before, %.1f MB with the sessions open\n", float64(before)/1024, float64(after)/1024)
	if alive < *n {
		os.Exit(1)
	}
}

// rssKB reads VmRSS of a process from /proc, in KiB.
func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return -1
}
