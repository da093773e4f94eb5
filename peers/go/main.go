// Command fanout-go-peer is fanout's Go peer: net/http, a goroutine per request bounded by a
// channel semaphore, one Transport keeping C idle connections; with -h2, x/net/http2's
// Transport over cleartext with prior knowledge (h2c), opening connections as the server's
// stream limit fills. It speaks fanout's peer protocol: `fanout-go-peer [-h2] URL C N
// TIMEOUT_MS`, one JSON line out, then it waits for stdin to close (fanout reads its peak
// memory meanwhile).
package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http2"
)

type outcomes struct {
	mu          sync.Mutex
	ok          uint64
	errors      map[string]uint64
	latenciesMs []float64
	firstError  error
}

func (o *outcomes) record(status int, started time.Time) {
	latencyMs := float64(time.Since(started).Microseconds()) / 1000
	o.mu.Lock()
	defer o.mu.Unlock()
	if status == http.StatusOK {
		o.ok++
		o.latenciesMs = append(o.latenciesMs, latencyMs)
	} else {
		o.errors[fmt.Sprintf("http_%d", status)]++
	}
}

func (o *outcomes) fail(err error) {
	o.failAs(kind(err), err)
}

func (o *outcomes) failAs(kind string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.firstError == nil {
		o.firstError = err
	}
	o.errors[kind]++
}

// failBody records a failure while reading a body: a body that ended before its
// Content-Length is truncated (net/http's io.ErrUnexpectedEOF), unless an errno says more.
func (o *outcomes) failBody(err error) {
	k := kind(err)
	if k == "connection_reset" && errors.Is(err, io.ErrUnexpectedEOF) {
		k = "truncated"
	}
	o.failAs(k, err)
}

// kind is fanout's error kind for err: a timeout, the errno it wraps, or an HTTP/2 stream
// or connection the server reset or sent away.
func kind(err error) string {
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		return "timeout"
	}
	var streamReset http2.StreamError
	var goAway http2.GoAwayError
	if errors.As(err, &streamReset) || errors.As(err, &goAway) {
		return "connection_reset"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EMFILE, syscall.ENFILE:
			return "too_many_open_files"
		case syscall.ECONNREFUSED:
			return "connection_refused"
		case syscall.ECONNRESET, syscall.EPIPE:
			return "connection_reset"
		case syscall.EADDRNOTAVAIL:
			return "addr_not_available"
		}
		return "io"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "connection_reset"
	}
	return "other"
}

func rssBytes() uint64 {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(statm))
	pages, _ := strconv.ParseUint(fields[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func cpuSeconds() (user, sys float64) {
	var usage syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	seconds := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return seconds(usage.Utime), seconds(usage.Stime)
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-version" {
		// "name version", as fanout reads a peer's version command.
		fmt.Println("go", runtime.Version())
		return
	}
	args := os.Args[1:]
	h2c := len(args) > 0 && args[0] == "-h2"
	if h2c {
		args = args[1:]
	}
	if len(args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: fanout-go-peer [-h2] URL C N TIMEOUT_MS")
		os.Exit(2)
	}
	url := args[0]
	c, err1 := strconv.Atoi(args[1])
	n, err2 := strconv.Atoi(args[2])
	timeoutMs, err3 := strconv.Atoi(args[3])
	if err1 != nil || err2 != nil || err3 != nil || c < 1 {
		fmt.Fprintln(os.Stderr, "fanout-go-peer: C, N and TIMEOUT_MS must be numbers, C at least 1:", args[1:])
		os.Exit(2)
	}

	rssBefore := rssBytes()
	userBefore, sysBefore := cpuSeconds()
	started := time.Now()
	// ---- timed region ----
	var transport interface{ CloseIdleConnections() }
	var roundTripper http.RoundTripper
	if h2c {
		// Cleartext HTTP/2: "TLS" dials plain TCP. Past the server's stream limit a new
		// connection opens (StrictMaxConcurrentStreams false, the default).
		t := &http2.Transport{
			AllowHTTP: true,
			DialTLS: func(network, addr string, _ *tls.Config) (net.Conn, error) {
				return net.Dial(network, addr)
			},
		}
		transport, roundTripper = t, t
	} else {
		t := &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}
		transport, roundTripper = t, t
	}
	client := &http.Client{Transport: roundTripper, Timeout: time.Duration(timeoutMs) * time.Millisecond}
	o := &outcomes{errors: map[string]uint64{}}
	semaphore := make(chan struct{}, c)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		semaphore <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-semaphore }()
			requestStarted := time.Now()
			response, err := client.Get(url)
			if err != nil {
				o.fail(err)
				return
			}
			_, err = io.Copy(io.Discard, response.Body)
			response.Body.Close()
			if err != nil {
				o.failBody(err)
				return
			}
			o.record(response.StatusCode, requestStarted)
		}()
	}
	wg.Wait()
	transport.CloseIdleConnections()
	// ---- end ----
	wall := time.Since(started).Seconds()
	userAfter, sysAfter := cpuSeconds()

	if o.firstError != nil {
		fmt.Fprintln(os.Stderr, "first error:", o.firstError)
	}
	line, _ := json.Marshal(map[string]any{
		"ok":               o.ok,
		"errors":           o.errors,
		"wall_s":           wall,
		"latencies_ms":     o.latenciesMs,
		"rss_before_bytes": rssBefore,
		"timed_cpu_user_s": userAfter - userBefore,
		"timed_cpu_sys_s":  sysAfter - sysBefore,
		"versions":         map[string]string{"go": runtime.Version()},
	})
	fmt.Println(string(line))
	_, _ = io.Copy(io.Discard, os.Stdin)
}
