package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// axeViolation is the part of an axe-core result the test reports.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// axe runs the vendored axe-core on the current page and returns the
// serious and critical violations. It is injected through the DevTools
// protocol, which the page's CSP does not govern.
func (b *browser) axe(src string) []axeViolation {
	b.t.Helper()
	loaded := run(b, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if !loaded {
		b.do(chromedp.Evaluate[chromedp.Void](src))
	}
	raw := run(b, chromedp.Evaluate[[]byte](`axe.run(document, {resultTypes: ["violations"]}).then(r => ({violations: r.violations, passes: r.passes.length, version: axe.version}))`, chromedp.EvalAwaitPromise))
	var res struct {
		Violations []axeViolation `json:"violations"`
		Passes     int            `json:"passes"`
		Version    string         `json:"version"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		b.t.Fatalf("axe result: %v", err)
	}
	if res.Version != "4.14.1" || res.Passes == 0 {
		b.t.Fatalf("axe did not run: version %q, %d rules passed", res.Version, res.Passes)
	}
	all := res.Violations
	var bad []axeViolation
	for _, v := range all {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, v)
		}
	}
	return bad
}

// TestAccessibility runs axe-core on every screen, as an admin with data on
// each, at desktop and phone widths, and fails on any serious or critical
// violation; it saves screenshots of the main screens on the way.
func TestAccessibility(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		src, err := os.ReadFile("testdata/axe-core-4.14.1.min.js")
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		admin := in.admin()
		b := newBrowser(t, in)
		// The signed-out screens: sign in and the ones the accounts mails
		// link to (with a token of the right shape, so the form shows).
		for _, path := range []string{"/admin/login", "/admin/password/forgot",
			"/admin/password/reset?token=qpr_x", "/admin/invitation?token=qiv_x", "/admin/invitation"} {
			b.open(path)
			for _, v := range b.axe(string(src)) {
				t.Errorf("%s: %s (%s): %s %v", path, v.ID, v.Impact, v.Help, v.Nodes)
			}
		}
		b.signIn(adminEmail, adminPassword)

		// Something on every screen.
		b.open("/admin/media")
		b.do(chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{pngFile(t, "green.png", color.RGBA{0, 160, 0, 255})}))
		b.wait(`document.querySelectorAll("#upload-list li.done").length === 1`)
		media, _, err := in.srv.Media.List(ctx, admin, store.MediaFilter{Limit: 1})
		if err != nil || len(media) != 1 {
			t.Fatalf("media: %v", err)
		}
		var blocks []quire.BlockInput
		for typ, c := range map[string]any{
			"heading": map[string]any{"text": "Welcome", "level": 2}, "paragraph": map[string]any{"text": "Text."},
			"rich_text": map[string]any{"html": "<p><strong>Rich</strong> text</p>"}, "image": map[string]any{"media_id": media[0].ID, "alt": "green"},
			"quote": map[string]any{"text": "Quoted", "cite": "Someone"}, "list": map[string]any{"style": "ordered", "items": []string{"a", "b"}},
			"code": map[string]any{"language": "go", "code": "package main"}, "embed": map[string]any{"url": "https://example.com/v"},
			"divider": map[string]any{},
		} {
			raw, _ := json.Marshal(c)
			blocks = append(blocks, quire.BlockInput{Type: typ, Content: raw})
		}
		pg, err := in.srv.Pages.Create(ctx, admin, service.NewPage{Title: "Accessible page", Slug: "accessible", Blocks: blocks})
		if err != nil {
			t.Fatal(err)
		}
		rev, err := in.srv.Pages.Publish(ctx, admin, pg.ID, pg.Version, "first")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := in.srv.Settings.Put(ctx, admin, "site.name", 0, service.SettingInput{Value: json.RawMessage(`"Quire"`)}); err != nil {
			t.Fatal(err)
		}
		editor := in.user(quire.RoleEditor)

		screens := map[string]string{
			"dashboard": "/admin/", "pages": "/admin/pages", "new-page": "/admin/pages/new", "editor": "/admin/pages/" + pg.ID,
			"history": "/admin/pages/" + pg.ID + "/history", "revision": "/admin/pages/" + pg.ID + "/revisions/" + rev.ID,
			"media": "/admin/media", "media-file": "/admin/media/" + media[0].ID, "trash": "/admin/media?trash=1",
			"settings": "/admin/settings", "setting": "/admin/settings/site.name", "new-setting": "/admin/settings/new",
			"users": "/admin/users", "user": "/admin/users/" + editor.ID, "tokens": "/admin/tokens",
			"audit": "/admin/audit?verify=1", "account": "/admin/account", "not-found": "/admin/nowhere",
		}
		shots := map[string]bool{"dashboard": true, "editor": true, "media": true, "pages": true, "audit": true}
		for _, width := range []int64{1280, 390} {
			b.do(chromedp.EmulateViewport(width, 900))
			for name, path := range screens {
				b.open(path)
				if name == "editor" {
					b.wait(`document.querySelector("trix-editor") && !!document.querySelector("trix-editor").editor`)
				}
				for _, v := range b.axe(string(src)) {
					t.Errorf("%s at %dpx: %s (%s): %s %v", path, width, v.ID, v.Impact, v.Help, v.Nodes)
				}
				if v := b.cspViolations(); len(v) > 0 {
					t.Errorf("%s: CSP violations %v", path, v)
				}
				if overflow := run(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); overflow {
					wide := run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right))`))
					t.Errorf("%s at %dpx scrolls sideways: %v", path, width, wide)
				}
				if shots[name] {
					b.screenshot(fmt.Sprintf("%s-%d", name, width))
				}
			}
		}
		if t.Failed() {
			t.Log("screenshots in", strings.TrimSpace(os.Getenv("QUIRE_ADMIN_SCREENSHOTS")), "(or the temp dir's quire-admin-screenshots)")
		}
	})
}
