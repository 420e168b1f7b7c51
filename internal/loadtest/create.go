package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// RunCreates creates pages through POST /api/v1/pages at base, as the
// admin with token, from conns goroutines for warmup (not measured) and
// then for d. Each page has blocks blocks and a slug of its own under
// prefix; each goroutine waits for its answer (201) before the next.
func RunCreates(ctx context.Context, client *http.Client, base, token, prefix string, blocks, conns int, warmup, d time.Duration) (Result, error) {
	if conns < 1 {
		return Result{}, fmt.Errorf("loadtest: no connections")
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
		go func(w *worker, id int) {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				slug := prefix + "/w" + strconv.Itoa(id) + "-" + strconv.Itoa(n)
				body, _ := json.Marshal(map[string]any{"slug": slug, "title": "Created " + slug, "blocks": Blocks(n, blocks)})
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				ok := post(ctx, client, base+"/api/v1/pages", token, body)
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
		}(&workers[w], w)
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

func post(ctx context.Context, client *http.Client, url, token string, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode == http.StatusCreated
}
