package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/loadtest"
	"github.com/quirecms/quire/internal/testdb"
)

// Seeded pages are what the page service would have stored: published,
// readable in public delivery, and without unpublished changes.
func TestSeededPagesArePublished(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		cfg := config.Default()
		cfg.DataDir, cfg.DatabaseURL = t.TempDir(), dsn
		f, err := loadtest.NewFixture(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), 30, 5)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Server.Close()
		if len(f.Slugs) != 30 || !strings.HasSuffix(f.Slugs[29], "/page-00029") {
			t.Fatalf("slugs: %d, last %q", len(f.Slugs), f.Slugs[len(f.Slugs)-1])
		}
		api := f.Server.API
		do := func(method, path, token string, body []byte) (int, []byte) {
			req := httptest.NewRequest(method, path, bytes.NewReader(body))
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			return rec.Code, rec.Body.Bytes()
		}

		status, body := do("GET", "/api/v1/public/pages/"+f.Slugs[7], "", nil)
		var pub struct {
			Slug     string            `json:"slug"`
			Blocks   []json.RawMessage `json:"blocks"`
			Revision int               `json:"revision"`
		}
		if err := json.Unmarshal(body, &pub); status != 200 || err != nil || pub.Slug != f.Slugs[7] || len(pub.Blocks) != 5 || pub.Revision != 1 {
			t.Fatalf("public page: %d %s", status, body)
		}

		login, _ := json.Marshal(map[string]string{"email": f.Email, "password": f.Password})
		status, body = do("POST", "/api/v1/auth/login", "", login)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(body, &tok); status != 200 || err != nil {
			t.Fatalf("login: %d %s", status, body)
		}
		for filter, want := range map[string]int{"published": 30, "changed": 0, "draft": 0} {
			status, body = do("GET", "/api/v1/pages?limit=100&status="+filter, tok.AccessToken, nil)
			var list struct {
				Data []*quire.Page `json:"data"`
			}
			if err := json.Unmarshal(body, &list); status != 200 || err != nil || len(list.Data) != want {
				t.Fatalf("status=%s: %d, %d pages, want %d", filter, status, len(list.Data), want)
			}
		}
	})
}

func TestRunAgainstBare(t *testing.T) {
	docs := map[string][]byte{"a": []byte(`{"a":1}`), "b": []byte(`{"b":2}`)}
	srv := httptest.NewServer(loadtest.Bare("/p/", docs))
	defer srv.Close()

	client := loadtest.Client(2)
	res, err := loadtest.Run(context.Background(), client, []string{srv.URL + "/p/a", srv.URL + "/p/b"}, 2, 20*time.Millisecond, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 || res.RPS() <= 0 || res.P50 <= 0 || res.P99 < res.P50 {
		t.Fatalf("result: %+v", res)
	}
	// A missing page is an error, not a request served.
	res, err = loadtest.Run(context.Background(), client, []string{srv.URL + "/p/missing"}, 1, 0, 50*time.Millisecond)
	if err != nil || res.Requests != 0 || res.Errors == 0 {
		t.Fatalf("missing page: %+v, %v", res, err)
	}
	if resp, err := http.Get(srv.URL + "/p/a"); err != nil || resp.Header.Get("Content-Length") != "7" {
		t.Fatalf("bare answer: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}
