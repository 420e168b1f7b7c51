package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/quirecms/quire/internal/webhook"
)

// Signatures verify with the Standard Webhooks reference library, with
// either secret during a rotation, and not with another secret.
func TestSignatureVerifiesWithReferenceLibrary(t *testing.T) {
	oldSecret, newSecret := webhook.NewSecret(), webhook.NewSecret()
	body := []byte(`{"type":"page.published","timestamp":"2026-01-01T00:00:00Z","data":{"event_id":"e1"}}`)
	now := time.Now()
	sig, err := webhook.Signature("msg_1", now, body, newSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", sig)
	for _, s := range []string{oldSecret, newSecret} {
		v, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(body, h); err != nil {
			t.Fatalf("reference library rejects the signature: %v", err)
		}
	}
	other, _ := standardwebhooks.NewWebhook(webhook.NewSecret())
	if other.Verify(body, h) == nil {
		t.Fatal("a signature verified with an unrelated secret")
	}
	v, _ := standardwebhooks.NewWebhook(newSecret)
	if v.Verify(append(body, ' '), h) == nil {
		t.Fatal("a changed body verified")
	}
}

func TestBoxSealsPerWebhook(t *testing.T) {
	box, err := webhook.NewBox([]byte("an instance key of at least 32 bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal("w1", "whsec_abc")
	if strings.Contains(sealed, "abc") {
		t.Fatal("sealed text shows the secret")
	}
	if got, err := box.Open("w1", sealed); err != nil || got != "whsec_abc" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := box.Open("w2", sealed); err == nil {
		t.Fatal("a secret sealed for one webhook opened for another")
	}
	other, _ := webhook.NewBox([]byte("another instance key of 32 bytes or more"))
	if _, err := other.Open("w1", sealed); err == nil {
		t.Fatal("a secret opened under another instance key")
	}
}

func TestCheckAddr(t *testing.T) {
	refused := []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
		"::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
		"64:ff9b::a00:1", "224.0.0.1", "ff02::1", "198.18.0.1"}
	for _, s := range refused {
		if err := webhook.CheckAddr(netip.MustParseAddr(s)); !errors.Is(err, webhook.ErrForbiddenAddress) {
			t.Errorf("%s: allowed, want refused", s)
		}
	}
	for _, s := range []string{"93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"} {
		if err := webhook.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s: %v, want allowed", s, err)
		}
	}
}

// The guard works on the address being connected to: literal loopback,
// a name that resolves to loopback, an IPv4-mapped IPv6 literal.
func TestClientRefusesInsideAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	c := webhook.NewClient(false)
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/"} {
		resp, err := c.Post(u, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: delivered, want refused", u)
		}
		if !errors.Is(err, webhook.ErrForbiddenAddress) {
			t.Fatalf("%s: %v, want the address refused", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the receiver was reached %d times", hits.Load())
	}
	// Allowed explicitly, the same receiver is reached.
	resp, err := webhook.NewClient(true).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatal("allowing private addresses did not reach the receiver")
	}
}

// A redirect is answered, not followed: a receiver cannot bounce a
// delivery to an inside address.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	var inside atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inside.Add(1) }))
	defer target.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", redirector.URL, strings.NewReader("{}"))
	resp, err := webhook.NewClient(true).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || inside.Load() != 0 {
		t.Fatalf("status %d, target hit %d times: the redirect was followed", resp.StatusCode, inside.Load())
	}
}
