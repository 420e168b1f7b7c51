package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/quirecms/quire/internal/loadtest"
)

// deepPages is how far the -deep workloads start down their list: 250
// pages of 20, the depth issue 11 compares with the first page.
const deepPages = 250

// workload is what a read workload requests: the request URIs, the header
// Quire needs for them, and the bytes Quire answered each with, which the
// bare handler serves.
type workload struct {
	uris     []string
	header   http.Header
	docs     map[string][]byte
	describe string
}

// prepare builds the request set of the named read workload against the
// running Quire at base, reading each answer once for the bare handler.
func prepare(ctx context.Context, name string, f *loadtest.Fixture, client *http.Client, base string, hot int) (*workload, error) {
	w := &workload{docs: map[string][]byte{}}
	switch name {
	case "page", "page-all", "read":
		slugs := f.Slugs
		if hot > 0 && hot < len(slugs) {
			slugs = slugs[:hot]
		}
		for _, s := range slugs {
			w.uris = append(w.uris, publicPrefix+s)
		}
		w.describe = fmt.Sprintf("GET %s{slug} over %d slugs in turn", publicPrefix, len(slugs))
	case "public-list", "public-list-deep", "admin-list", "admin-list-deep":
		path := "/api/v1/public/pages"
		if strings.HasPrefix(name, "admin") {
			path = "/api/v1/pages"
			token, err := login(ctx, client, base, f.Email, f.Password)
			if err != nil {
				return nil, err
			}
			w.header = http.Header{"Authorization": {"Bearer " + token}}
		}
		uri := path + "?limit=20"
		if strings.HasSuffix(name, "-deep") {
			var err error
			if uri, err = walk(ctx, client, base, path, w.header, deepPages); err != nil {
				return nil, err
			}
		}
		w.uris = []string{uri}
		w.describe = "GET " + uri
	default:
		return nil, fmt.Errorf("unknown workload %q", name)
	}
	for _, uri := range w.uris {
		body, _, err := get(ctx, client, base+uri, w.header)
		if err != nil {
			return nil, err
		}
		w.docs[uri] = body
	}
	return w, nil
}

// walk follows next_cursor from the first page of the list at path for
// pages pages and returns the request URI of the page it reached.
func walk(ctx context.Context, client *http.Client, base, path string, header http.Header, pages int) (string, error) {
	uri := path + "?limit=20"
	for range pages {
		body, _, err := get(ctx, client, base+uri, header)
		if err != nil {
			return "", err
		}
		var page struct {
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return "", err
		}
		if page.NextCursor == nil {
			return "", fmt.Errorf("%s ends before %d pages: seed more pages", path, pages)
		}
		uri = path + "?limit=20&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	return uri, nil
}

func get(ctx context.Context, client *http.Client, u string, header http.Header) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return body, resp.Header, err
}
