package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Result is what one load run measured.
type Result struct {
	Requests int           // answered with 200 inside the measured window
	Errors   int           // transport errors and non-200 answers
	Elapsed  time.Duration // the measured window
	P50, P99 time.Duration
	lat      []time.Duration // sorted
}

// RPS is requests per second.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Add returns r and o together, as one run of their combined length.
func (r Result) Add(o Result) Result {
	out := Result{Requests: r.Requests + o.Requests, Errors: r.Errors + o.Errors, Elapsed: r.Elapsed + o.Elapsed,
		lat: append(slices.Clip(r.lat), o.lat...)}
	slices.Sort(out.lat)
	out.percentiles()
	return out
}

func (r *Result) percentiles() {
	if n := len(r.lat); n > 0 {
		r.P50, r.P99 = r.lat[n*50/100], r.lat[min(n-1, n*99/100)]
	}
}

func (r Result) String() string {
	return fmt.Sprintf("%9.0f req/s  p50 %8s  p99 %8s  (%d requests, %d errors in %s)",
		r.RPS(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Requests, r.Errors, r.Elapsed.Round(time.Millisecond))
}

// Client returns an HTTP client whose transport keeps conns keep-alive
// connections open to one host, so that a run measures requests, not
// connection set-up.
func Client(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}}
}

// Run sends GET requests to urls, in turn, from conns goroutines sharing
// client, for warmup (not measured) and then for d. Each goroutine waits
// for its answer before sending the next request, so conns is also the
// number of connections in use.
func Run(ctx context.Context, client *http.Client, urls []string, conns int, warmup, d time.Duration) (Result, error) {
	return RunWithHeader(ctx, client, urls, nil, conns, warmup, d)
}

// RunWithHeader is Run with header sent on every request (an
// Authorization for the admin's routes).
func RunWithHeader(ctx context.Context, client *http.Client, urls []string, header http.Header, conns int, warmup, d time.Duration) (Result, error) {
	if header == nil {
		header = http.Header{}
	}
	if len(urls) == 0 || conns < 1 {
		return Result{}, fmt.Errorf("loadtest: nothing to request")
	}
	reqs := make([]*http.Request, len(urls))
	for i, u := range urls {
		parsed, err := url.Parse(u)
		if err != nil {
			return Result{}, err
		}
		// Requests are built once and only read afterwards, by the
		// transport, so that building them costs the client nothing per call.
		reqs[i] = (&http.Request{Method: http.MethodGet, URL: parsed, Header: header, Host: parsed.Host}).WithContext(ctx)
	}
	type worker struct {
		ok, errs int
		lat      []time.Duration
	}
	workers := make([]worker, conns)
	start := time.Now()
	measureFrom := start.Add(warmup)
	deadline := measureFrom.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func(w *worker, next int) {
			defer wg.Done()
			w.lat = make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				ok := get(client, reqs[next%len(reqs)])
				next++
				if t0.Before(measureFrom) {
					continue
				}
				if !ok {
					w.errs++
					continue
				}
				w.ok++
				w.lat = append(w.lat, time.Since(t0))
			}
		}(&workers[w], w*len(reqs)/conns)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	res := Result{Elapsed: d}
	for _, w := range workers {
		res.Requests += w.ok
		res.Errors += w.errs
		res.lat = append(res.lat, w.lat...)
	}
	slices.Sort(res.lat)
	res.percentiles()
	return res, nil
}

func get(client *http.Client, req *http.Request) bool {
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode == http.StatusOK
}

// Bare is the baseline: a plain net/http handler that answers GET
// prefix+slug with docs[slug] and nothing else, no logging, no metrics,
// no middleware.
func Bare(prefix string, docs map[string][]byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) <= len(prefix) || r.URL.Path[:len(prefix)] != prefix {
			http.NotFound(w, r)
			return
		}
		body, ok := docs[r.URL.Path[len(prefix):]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

// BareURIs is the baseline of any GET: a plain net/http handler that
// answers each request URI (path and query) in docs with its bytes, and
// nothing else, no logging, no metrics, no middleware.
func BareURIs(docs map[string][]byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := docs[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}
