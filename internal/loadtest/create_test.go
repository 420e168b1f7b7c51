package loadtest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/loadtest"
	"github.com/quirecms/quire/internal/testdb"
)

// The create workload creates real pages through the API: every answer
// counted is a 201, and the pages are there afterwards.
func TestRunCreates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		cfg := config.Default()
		cfg.DataDir, cfg.DatabaseURL = t.TempDir(), dsn
		f, err := loadtest.NewFixture(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Server.Close()
		srv := httptest.NewServer(f.Server.API)
		defer srv.Close()
		body, _ := json.Marshal(map[string]string{"email": f.Email, "password": f.Password})
		resp, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()

		client := loadtest.Client(2)
		res, err := loadtest.RunCreates(ctx, client, srv.URL, tok.AccessToken, "created", 3, 2, 0, 300*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if res.Requests == 0 || res.Errors != 0 || res.P50 <= 0 {
			t.Fatalf("result: %+v", res)
		}
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/pages?limit=100", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Data []struct {
				Slug string `json:"slug"`
			} `json:"data"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		created := 0
		for _, p := range list.Data {
			if strings.HasPrefix(p.Slug, "created/") {
				created++
			}
		}
		if created < min(res.Requests, 99) {
			t.Fatalf("%d created pages listed, %d creates counted", created, res.Requests)
		}
		// A refused create is an error, not a request served.
		res, err = loadtest.RunCreates(ctx, client, srv.URL, "not-a-token", "refused", 1, 1, 0, 50*time.Millisecond)
		if err != nil || res.Requests != 0 || res.Errors == 0 {
			t.Fatalf("refused creates: %+v, %v", res, err)
		}
	})
}
