package httpapi_test

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
)

func noPrivate(c *config.Config) { c.WebhookAllowPrivate = false }

// Bad endpoint input is a 422 naming the field, with nothing stored.
func TestWebhookValidation(t *testing.T) {
	eachWithJobs(t, noPrivate, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		cases := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"url": ""}, "url"},
			{map[string]any{"url": "ftp://example.com/x"}, "url"},
			{map[string]any{"url": "/relative"}, "url"},
			{map[string]any{"url": "https://user:pw@example.com/"}, "url"},
			{map[string]any{"url": "https://example.com/" + strings.Repeat("a", 2001)}, "url"},
			{map[string]any{"url": "http://127.0.0.1:9/"}, "url"},
			{map[string]any{"url": "http://[::ffff:10.0.0.1]/"}, "url"},
			{map[string]any{"url": "http://169.254.169.254/latest/meta-data"}, "url"},
			{map[string]any{"url": "http://localhost:8080/"}, "url"},
			{map[string]any{"url": "http://build.localhost./"}, "url"},
			{map[string]any{"url": "https://example.com/", "event_types": []string{"page.exploded"}}, "event_types"},
			{map[string]any{"url": "https://example.com/", "event_types": []string{"page.published", "page.published"}}, "event_types"},
			{map[string]any{"url": "https://example.com/", "description": strings.Repeat("d", 501)}, "description"},
		}
		for _, c := range cases {
			p := e.do("POST", "/api/v1/webhooks", tok, c.body).want(t, 422).problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != c.field {
				t.Fatalf("%v: problem %+v, want field %s", c.body, p, c.field)
			}
		}
		var l struct{ Data []quire.Webhook }
		e.do("GET", "/api/v1/webhooks", tok, nil).want(t, 200).json(t, &l)
		if len(l.Data) != 0 {
			t.Fatalf("%d webhooks stored by refused requests", len(l.Data))
		}
	})
}

// Create, change and delete are audited without the secret; a stale
// If-Match is a 412 that changes nothing; deleting removes the log.
func TestWebhookCRUDAudited(t *testing.T) {
	eachWithJobs(t, noPrivate, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		hook := e.createWebhook(tok, "https://hooks.example.com/quire", quire.EventPagePublished)
		if !hook.Active || hook.Version != 1 || len(hook.EventTypes) != 1 {
			t.Fatalf("created %+v", hook)
		}
		var w quire.Webhook
		e.do("PATCH", "/api/v1/webhooks/"+hook.ID, tok, map[string]any{"description": "Netlify build", "event_types": []string{}}, ifMatch(1)...).
			want(t, 200).json(t, &w)
		if w.Description != "Netlify build" || len(w.EventTypes) != 0 || w.Version != 2 {
			t.Fatalf("updated %+v", w)
		}
		e.do("PATCH", "/api/v1/webhooks/"+hook.ID, tok, map[string]any{"description": "stale"}, ifMatch(1)...).want(t, 412)
		e.do("PATCH", "/api/v1/webhooks/"+hook.ID, tok, map[string]any{"url": "http://10.0.0.7/"}, ifMatch(2)...).want(t, 422)
		e.do("DELETE", "/api/v1/webhooks/"+hook.ID, tok, nil, ifMatch(1)...).want(t, 412)
		e.do("DELETE", "/api/v1/webhooks/"+hook.ID, tok, nil, ifMatch(2)...).want(t, 204)
		e.do("GET", "/api/v1/webhooks/"+hook.ID, tok, nil).want(t, 404)
		e.do("GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", tok, nil).want(t, 404)
		var actions []string
		for _, a := range e.auditLog() {
			if a.ResourceType == "webhook" {
				actions = append(actions, a.Action)
				if strings.Contains(string(a.Details), "whsec_") || strings.Contains(string(a.Details), strings.TrimPrefix(hook.Secret, "whsec_")) {
					t.Fatalf("audit %s holds a secret: %s", a.Action, a.Details)
				}
			}
		}
		want := []string{quire.ActionWebhookCreate, quire.ActionWebhookUpdate, quire.ActionWebhookDelete}
		if strings.Join(actions, ",") != strings.Join(want, ",") {
			t.Fatalf("audit %v, want %v", actions, want)
		}
		e.wantAuditOK(tok)
	})
}

// With private addresses refused, a name that resolves to this machine
// is refused when connecting: nothing reaches the receiver, and the log
// says why.
func TestWebhookRefusesNameResolvingInside(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no host name")
	}
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 {
		t.Skipf("host name %s does not resolve here", host)
	}
	eachWithJobs(t, noPrivate, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		rc := newReceiver(t)
		_, port, _ := net.SplitHostPort(rc.Listener.Addr().String())
		hook := e.createWebhook(tok, "http://"+host+":"+port+"/")
		e.do("POST", "/api/v1/webhooks/"+hook.ID+"/test", tok, nil).want(t, 202)
		deadline := time.Now().Add(10 * time.Second)
		for {
			ds := e.deliveries(tok, hook.ID)
			if len(ds) == 1 && ds[0].Attempts > 0 {
				if !strings.Contains(ds[0].Error, "destination address not allowed") || ds[0].ResponseCode != nil {
					t.Fatalf("delivery %+v", ds[0])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no attempt recorded: %+v", ds)
			}
			time.Sleep(30 * time.Millisecond)
		}
		if rc.count() != 0 {
			t.Fatal("the delivery reached an inside address")
		}
	})
}
