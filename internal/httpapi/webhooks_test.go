package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
)

// A publish reaches a real receiver, signed so that the reference
// library verifies it, carrying identifiers only; the log records it.
func TestWebhookDeliversSignedEvents(t *testing.T) {
	eachWithJobs(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		rc := newReceiver(t)
		hook := e.createWebhook(tok, rc.URL+"/hook", quire.EventPagePublished, quire.EventPageDeleted)

		// The secret is shown once: never by GET, list or audit.
		r := e.do("GET", "/api/v1/webhooks/"+hook.ID, tok, nil).want(t, 200)
		list := e.do("GET", "/api/v1/webhooks", tok, nil).want(t, 200)
		for _, b := range [][]byte{r.Body, list.Body} {
			if strings.Contains(string(b), hook.Secret) || strings.Contains(string(b), "secret\"") {
				t.Fatalf("a read shows the secret: %s", b)
			}
		}
		for _, a := range e.auditLog() {
			if strings.Contains(string(a.Details), strings.TrimPrefix(hook.Secret, "whsec_")) {
				t.Fatalf("audit entry %s holds the secret", a.Action)
			}
		}

		page := e.createPage(tok, "news", "News", blk("paragraph", map[string]any{"text": "hi"}))
		rev := e.publishPage(tok, page.ID)
		got := rc.wait(t, 1)
		verify(t, hook.Secret, got[0])
		d := got[0].Doc
		if d.Type != quire.EventPagePublished || d.Data.ResourceID != page.ID || d.Data.Slug != "news" || d.Data.Revision != rev.Number || d.Data.ResourceType != "page" {
			t.Fatalf("payload %s", got[0].Body)
		}
		if got[0].Header.Get("webhook-id") != d.Data.EventID {
			t.Fatalf("webhook-id %q, event %q", got[0].Header.Get("webhook-id"), d.Data.EventID)
		}
		if strings.Contains(string(got[0].Body), "hi") {
			t.Fatalf("the payload carries content: %s", got[0].Body)
		}
		ok := e.waitDelivery(tok, hook.ID, quire.DeliverySucceeded)
		if ok.Attempts != 1 || ok.ResponseCode == nil || *ok.ResponseCode != 200 || ok.DurationMS == nil || ok.EventType != quire.EventPagePublished {
			t.Fatalf("delivery %+v", ok)
		}
		// page.created was not subscribed to: only one request came.
		time.Sleep(200 * time.Millisecond)
		if n := rc.count(); n != 1 {
			t.Fatalf("receiver got %d requests, want 1 (page.created is not subscribed)", n)
		}

		// Redelivery sends the same message (same webhook-id and body).
		var again quire.WebhookDelivery
		e.do("POST", "/api/v1/webhooks/"+hook.ID+"/deliveries/"+ok.ID+"/redeliver", tok, nil).want(t, 202).json(t, &again)
		got = rc.wait(t, 2)
		verify(t, hook.Secret, got[1])
		if got[1].Header.Get("webhook-id") != got[0].Header.Get("webhook-id") || string(got[1].Body) != string(got[0].Body) {
			t.Fatal("a redelivery is a different message")
		}

		// A test event.
		e.do("POST", "/api/v1/webhooks/"+hook.ID+"/test", tok, nil).want(t, 202)
		got = rc.wait(t, 3)
		verify(t, hook.Secret, got[2])
		if got[2].Doc.Type != quire.EventWebhookTest {
			t.Fatalf("test event %s", got[2].Body)
		}
		e.do("POST", "/api/v1/webhooks/"+hook.ID+"/deliveries/nope/redeliver", tok, nil).want(t, 404)
		e.do("POST", "/api/v1/webhooks/nope/test", tok, nil).want(t, 404)
	})
}

// A receiver that fails on purpose gets the same message again with
// backoff until it answers 2xx; the log shows every attempt.
func TestWebhookRetriesUntilReceived(t *testing.T) {
	eachWithJobs(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		rc := newReceiver(t)
		rc.failNext(500, 503, 302)
		hook := e.createWebhook(tok, rc.URL)
		e.do("PUT", "/api/v1/settings/site.name", tok, map[string]any{"value": "x", "public": true}).want(t, 201)
		got := rc.wait(t, 4)
		for _, g := range got {
			verify(t, hook.Secret, g)
			if g.Header.Get("webhook-id") != got[0].Header.Get("webhook-id") {
				t.Fatal("a retry changed the message id")
			}
		}
		d := e.waitDelivery(tok, hook.ID, quire.DeliverySucceeded)
		if d.Attempts != 4 || *d.ResponseCode != 200 || d.NextAttemptAt != nil {
			t.Fatalf("delivery %+v", d)
		}
		// The endpoint is healthy again.
		var w quire.Webhook
		e.do("GET", "/api/v1/webhooks/"+hook.ID, tok, nil).want(t, 200).json(t, &w)
		if w.FailingSince != nil || !w.Active {
			t.Fatalf("webhook %+v", w)
		}
	})
}

// An endpoint that keeps failing past QUIRE_WEBHOOK_DISABLE_AFTER is
// switched off, says why, and the audit log says Quire did it.
func TestWebhookSwitchedOffAfterFailingTooLong(t *testing.T) {
	eachWithJobs(t, func(c *config.Config) { c.WebhookDisableAfter = 150 * time.Millisecond }, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		rc := newReceiver(t)
		rc.failNext(500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
		hook := e.createWebhook(tok, rc.URL)
		e.do("PUT", "/api/v1/settings/a", tok, map[string]any{"value": 1}).want(t, 201)
		deadline := time.Now().Add(20 * time.Second)
		var w quire.Webhook
		for {
			e.do("GET", "/api/v1/webhooks/"+hook.ID, tok, nil).want(t, 200).json(t, &w)
			if !w.Active || time.Now().After(deadline) {
				break
			}
			time.Sleep(30 * time.Millisecond)
		}
		if w.Active || w.DisabledReason == "" {
			t.Fatalf("webhook %+v: want switched off with a reason", w)
		}
		d := e.waitDelivery(tok, hook.ID, quire.DeliveryFailed)
		if d.Attempts < 2 {
			t.Fatalf("delivery %+v", d)
		}
		found := false
		for _, a := range e.auditLog() {
			found = found || (a.Action == quire.ActionWebhookDisable && a.ResourceID == hook.ID && a.UserID == "")
		}
		if !found {
			t.Fatal("no audit entry for switching the endpoint off")
		}
		// Nothing more is sent; new events make no deliveries.
		n := rc.count()
		e.do("PUT", "/api/v1/settings/b", tok, map[string]any{"value": 1}).want(t, 201)
		time.Sleep(300 * time.Millisecond)
		if rc.count() != n || len(e.deliveries(tok, hook.ID)) != 1 {
			t.Fatal("a switched-off endpoint still receives")
		}
		e.do("POST", "/api/v1/webhooks/"+hook.ID+"/test", tok, nil).want(t, 409)
		// Switching it back on clears the note.
		var on quire.Webhook
		e.do("PATCH", "/api/v1/webhooks/"+hook.ID, tok, map[string]any{"active": true}, ifMatch(w.Version)...).want(t, 200).json(t, &on)
		if !on.Active || on.DisabledReason != "" || on.FailingSince != nil {
			t.Fatalf("webhook %+v", on)
		}
	})
}

// After a rotation both secrets sign until the grace period ends; the
// new secret is shown once.
func TestWebhookSecretRotation(t *testing.T) {
	eachWithJobs(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		rc := newReceiver(t)
		hook := e.createWebhook(tok, rc.URL)
		var rotated createdWebhook
		r := e.do("POST", "/api/v1/webhooks/"+hook.ID+"/rotate-secret", tok, nil, ifMatch(hook.Version)...).want(t, 200)
		r.json(t, &rotated)
		if rotated.Secret == hook.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.PreviousSecretUntil == nil {
			t.Fatalf("rotation %+v", rotated)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("a response with a secret may be cached")
		}
		e.do("POST", "/api/v1/webhooks/"+hook.ID+"/rotate-secret", tok, nil, ifMatch(hook.Version)...).want(t, 412)
		e.do("POST", "/api/v1/webhooks/"+hook.ID+"/test", tok, nil).want(t, 202)
		got := rc.wait(t, 1)
		verify(t, hook.Secret, got[0])
		verify(t, rotated.Secret, got[0])
		if n := len(strings.Fields(got[0].Header.Get("webhook-signature"))); n != 2 {
			t.Fatalf("%d signatures during the grace period, want 2", n)
		}
	})
}

// Once the grace period is over, only the new secret signs.
func TestWebhookSecretGraceEnds(t *testing.T) {
	eachWithJobs(t, func(c *config.Config) { c.WebhookSecretGrace = time.Nanosecond }, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		rc := newReceiver(t)
		hook := e.createWebhook(tok, rc.URL)
		var rotated createdWebhook
		e.do("POST", "/api/v1/webhooks/"+hook.ID+"/rotate-secret", tok, nil).want(t, 200).json(t, &rotated)
		e.do("POST", "/api/v1/webhooks/"+hook.ID+"/test", tok, nil).want(t, 202)
		got := rc.wait(t, 1)
		verify(t, rotated.Secret, got[0])
		if n := len(strings.Fields(got[0].Header.Get("webhook-signature"))); n != 1 {
			t.Fatalf("%d signatures after the grace period, want 1", n)
		}
	})
}
