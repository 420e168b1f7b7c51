package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/quirecms/quire"
)

// pngFile writes a small PNG of colour c and returns its path.
func pngFile(t *testing.T, name string, c color.RGBA) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, c)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// wait polls a JavaScript condition until it holds.
func (b *browser) wait(cond string) {
	b.t.Helper()
	run(b, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(actionTimeout)))
}

func (b *browser) types() []string {
	b.t.Helper()
	return run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#blocks > li")).map(li => li.dataset.type)`))
}

// addBlock adds a block of type at the end of the list with the adder of
// the last block (or the top one on an empty page).
func (b *browser) addBlock(typ string) {
	b.t.Helper()
	adder := `#blocks > li:last-child > .adder`
	if len(b.types()) == 0 {
		adder = `#editor fieldset > .adder`
	}
	b.do(chromedp.SetValue(chromedp.CSS(adder+` select`), typ), chromedp.Click(chromedp.CSS(adder+` button`)))
}

func (b *browser) saveEditor() {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.ID("save")))
	b.wait(`document.getElementById("save-status").textContent.startsWith("Saved") || document.getElementById("save-status").textContent.startsWith("Not saved")`)
	if s := b.text("#save-status"); !strings.HasPrefix(s, "Saved") {
		b.t.Fatalf("save: %s", s)
	}
}

func nth(i int) string { return fmt.Sprintf("#blocks > li:nth-child(%d) ", i) }

// TestEditorWholeLife: an editor writes a page with one block of every
// type, uploads and places an image, reorders by keyboard and by drag,
// saves, publishes, sees it in the public API, edits again, and restores
// the published revision; then a second session's save makes the first
// one's a conflict that overwrites nothing.
func TestEditorWholeLife(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		b := newBrowser(t, in)
		b.signIn(adminEmail, adminPassword)
		// Tall enough for the whole page: the sticky save bar then covers
		// nothing a click aims at.
		b.do(chromedp.EmulateViewport(1280, 5000))
		b.open("/admin/pages/new")
		b.do(chromedp.SendKeys(chromedp.ID("title"), "Hello world"))
		if slug := run(b, chromedp.Value(chromedp.ID("slug"))); slug != "hello-world" {
			t.Errorf("suggested slug %q", slug)
		}
		b.submit(`form[action="/admin/pages"] button`)
		if got := b.text(".flash"); got != "Page created." {
			t.Fatalf("after create: %q at %s", got, b.path())
		}
		pageID := strings.TrimPrefix(strings.SplitN(b.path(), "?", 2)[0], "/admin/pages/")

		all := []string{"heading", "paragraph", "rich_text", "image", "quote", "list", "code", "embed", "divider"}
		for _, typ := range all {
			b.addBlock(typ)
		}
		if got := b.types(); !slices.Equal(got, all) {
			t.Fatalf("blocks after adding: %v", got)
		}
		b.do(
			chromedp.SendKeys(chromedp.CSS(nth(1)+`[data-field=text]`), "Welcome"),
			chromedp.SetValue(chromedp.CSS(nth(1)+`[data-field=level]`), "2"),
			chromedp.SendKeys(chromedp.CSS(nth(2)+`[data-field=text]`), "A first paragraph."),
		)
		b.wait(`!!document.querySelector("#blocks > li:nth-child(3) trix-editor").editor`)
		b.do(chromedp.Click(chromedp.CSS(nth(3)+`trix-editor`)), chromedp.KeyEvent("Some rich text"))
		b.do(chromedp.SetUploadFiles(chromedp.CSS(nth(4)+`input[type=file]`), []string{pngFile(t, "red.png", color.RGBA{200, 0, 0, 255})}))
		b.wait(`document.querySelector("#blocks > li:nth-child(4) [data-field=media_id]").value !== ""`)
		b.do(
			chromedp.SendKeys(chromedp.CSS(nth(4)+`[data-field=alt]`), "A red square"),
			chromedp.SendKeys(chromedp.CSS(nth(5)+`[data-field=text]`), "To be or not to be"),
			chromedp.SendKeys(chromedp.CSS(nth(5)+`[data-field=cite]`), "Hamlet"),
			chromedp.SendKeys(chromedp.CSS(nth(6)+`input[data-item]`), "one"),
			chromedp.Click(chromedp.CSS(nth(6)+`button[data-act=add-item]`)),
			chromedp.SendKeys(chromedp.CSS(nth(6)+`li:nth-child(2) > input[data-item]`), "two"),
			chromedp.SendKeys(chromedp.CSS(nth(7)+`[data-field=language]`), "go"),
			chromedp.SendKeys(chromedp.CSS(nth(7)+`[data-field=code]`), "package main"),
			chromedp.SendKeys(chromedp.CSS(nth(8)+`[data-field=url]`), "http://example.com/video"),
		)
		// An embed must be https: the API's error shows next to that field
		// and nothing is saved.
		b.do(chromedp.Click(chromedp.ID("save")))
		b.wait(`document.getElementById("save-status").textContent.startsWith("Not saved")`)
		if e := b.text(nth(8) + `[data-error-for=url]`); !strings.Contains(e, "https") {
			t.Errorf("embed error shown: %q", e)
		}
		if inv := run(b, chromedp.Evaluate[string](`document.querySelector("#blocks > li:nth-child(8) [data-field=url]").getAttribute("aria-invalid")`)); inv != "true" {
			t.Errorf("the invalid field is not marked: %q", inv)
		}
		ctx := context.Background()
		if pg, err := in.srv.Pages.Get(ctx, in.admin(), pageID); err != nil || len(pg.Blocks) != 0 {
			t.Fatalf("an invalid save stored something: %v %+v", err, pg)
		}
		b.clear(nth(8) + `[data-field=url]`)
		b.do(chromedp.SendKeys(chromedp.CSS(nth(8)+`[data-field=url]`), "https://example.com/video"))
		b.saveEditor()
		b.screenshot("editor")

		// An accidental reload with unsaved changes: the browser asks
		// first, and the reloaded editor offers the kept copy back.
		b.do(chromedp.SendKeys(chromedp.CSS(nth(2)+`[data-field=text]`), " Unsaved."))
		b.wait(`localStorage.getItem("quire:page:` + pageID + `") !== null`)
		before := b.dialogCount("beforeunload")
		b.do(chromedp.Reload())
		if b.dialogCount("beforeunload") != before+1 {
			t.Error("reloading with unsaved changes did not warn")
		}
		b.wait(`document.readyState === "complete" && !document.getElementById("restore-banner").hidden`)
		b.do(chromedp.Click(chromedp.ID("restore-yes")))
		if v := run(b, chromedp.Value(chromedp.CSS(nth(2)+`[data-field=text]`))); v != "A first paragraph. Unsaved." {
			t.Errorf("restored paragraph %q", v)
		}
		b.saveEditor()

		// Keyboard: the heading moves down one place with its button.
		b.do(chromedp.Focus(chromedp.CSS(nth(1)+`button[data-act=down]`)), chromedp.KeyEvent("\r"))
		want := []string{"paragraph", "heading", "rich_text", "image", "quote", "list", "code", "embed", "divider"}
		if got := b.types(); !slices.Equal(got, want) {
			t.Fatalf("after moving down by keyboard: %v", got)
		}
		if s := b.text("#save-status"); !strings.Contains(s, "position 2") {
			t.Errorf("the move was not announced: %q", s)
		}
		// Drag: the divider's handle dragged above the first block.
		b.dragBlock(9, 1)
		want = []string{"divider", "paragraph", "heading", "rich_text", "image", "quote", "list", "code", "embed"}
		if got := b.types(); !slices.Equal(got, want) {
			t.Fatalf("after dragging: %v", got)
		}
		// A second image block takes the uploaded image from the library's picker.
		b.addBlock("image")
		b.do(chromedp.Click(chromedp.CSS(nth(10) + `button[data-act=pick]`)))
		b.wait(`document.getElementById("picker").open && document.querySelectorAll("#picker-grid button.pick").length === 1`)
		b.do(chromedp.Click(chromedp.CSS(`#picker-grid button.pick`)))
		b.wait(`!document.getElementById("picker").open`)
		picked := run(b, chromedp.Value(chromedp.CSS(nth(10)+`[data-field=media_id]`)))
		uploaded := run(b, chromedp.Value(chromedp.CSS(nth(5)+`[data-field=media_id]`)))
		if picked == "" || picked != uploaded {
			t.Errorf("picked media %q, uploaded %q", picked, uploaded)
		}
		b.do(chromedp.Click(chromedp.CSS(nth(10) + `button[data-act=delete]`)))
		b.saveEditor()
		pg, err := in.srv.Pages.Get(ctx, in.admin(), pageID)
		if err != nil {
			t.Fatal(err)
		}
		var stored []string
		for _, bl := range pg.Blocks {
			stored = append(stored, bl.Type)
		}
		if !slices.Equal(stored, want) {
			t.Fatalf("stored order %v", stored)
		}
		checkContent(t, pg)

		// Publish, then the public API has it, image with its URL.
		b.open("/admin/pages/" + pageID)
		if !b.has(`#blocks > li[data-type=image] [data-preview] img[src^="/media/"]`) {
			t.Error("the stored image block shows no preview")
		}
		b.do(chromedp.SendKeys(chromedp.ID("publish-note"), "first publication"))
		b.submit(`form[action$="/publish"] button`)
		if got := b.text(".flash"); got != "Published." {
			t.Fatalf("publish: %q", got)
		}
		var public struct {
			Title  string `json:"title"`
			Blocks []struct {
				Type    string         `json:"type"`
				Content map[string]any `json:"content"`
			} `json:"blocks"`
		}
		if st := in.api("GET", "/api/v1/public/pages/hello-world", "", "", &public); st != http.StatusOK || len(public.Blocks) != 9 {
			t.Fatalf("public page: %d %+v", st, public)
		}
		if u, _ := public.Blocks[4].Content["url"].(string); public.Blocks[4].Type != "image" || !strings.HasPrefix(u, "/media/") {
			t.Errorf("public image block: %+v", public.Blocks[4])
		}

		// Edit again: the page now differs from what is published.
		b.clear("#title")
		b.do(chromedp.SendKeys(chromedp.ID("title"), "Hello again"))
		b.saveEditor()
		b.open("/admin/pages/" + pageID)
		if !b.has("#differs") {
			t.Error("no mark that the working copy differs from the published one")
		}
		// Restore the published revision from the history.
		b.open("/admin/pages/" + pageID + "/history")
		b.submit(`#revisions a`)
		b.submit(`form[action$="/restore"] button`)
		if got := b.text(".flash"); !strings.HasPrefix(got, "Revision restored") {
			t.Fatalf("restore: %q", got)
		}
		if v := run(b, chromedp.Value(chromedp.ID("title"))); v != "Hello world" {
			t.Errorf("title after restoring: %q", v)
		}
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("the editor broke its CSP: %v", v)
		}

		// A second session saves first; the first session's save is a
		// conflict that overwrites nothing and can show both versions.
		b2 := newBrowser(t, in)
		b2.signIn(adminEmail, adminPassword)
		b2.open("/admin/pages/" + pageID)
		b.clear("#title")
		b.do(chromedp.SendKeys(chromedp.ID("title"), "Hello world (mine)"))
		b2.clear("#title")
		b2.do(chromedp.SendKeys(chromedp.ID("title"), "Theirs"))
		b2.saveEditor()
		b.do(chromedp.Click(chromedp.ID("save")))
		b.wait(`!document.getElementById("conflict").hidden`)
		b.do(chromedp.Click(chromedp.ID("conflict-both")))
		if both := b.text("#conflict-both-view"); !strings.Contains(both, "Theirs") || !strings.Contains(both, "Hello world (mine)") {
			t.Errorf("see both: %q", both)
		}
		if pg, _ := in.srv.Pages.Get(ctx, in.admin(), pageID); pg.Title != "Theirs" {
			t.Errorf("the conflicting save overwrote: title %q", pg.Title)
		}
		// Reloading keeps the unsaved work in this browser and offers it back.
		b.submit("#conflict-reload")
		b.wait(`!document.getElementById("restore-banner").hidden`)
		b.do(chromedp.Click(chromedp.ID("restore-yes")))
		if v := run(b, chromedp.Value(chromedp.ID("title"))); v != "Hello world (mine)" {
			t.Errorf("restored title %q", v)
		}
	})
}

// clear empties a field as a user selecting all and deleting would.
func (b *browser) clear(sel string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`(() => { const el = document.querySelector(` + jsString(sel) + `); el.value = ""; el.dispatchEvent(new Event("input", {bubbles: true})); })()`))
}

// dragBlock drags block from's handle onto block to with the mouse.
func (b *browser) dragBlock(from, to int) {
	b.t.Helper()
	type pt struct{ X, Y float64 }
	center := func(sel string) pt {
		return run(b, chromedp.Evaluate[pt](`(() => { const r = document.querySelector(`+jsString(sel)+`).getBoundingClientRect(); return {X: r.left + r.width/2, Y: r.top + r.height/2}; })()`))
	}
	h := center(nth(from) + ".drag")
	top := run(b, chromedp.Evaluate[pt](`(() => { const r = document.querySelector(`+jsString(nth(to))+`).getBoundingClientRect(); return {X: r.left + 20, Y: r.top + 5}; })()`))
	b.do(
		chromedp.MouseEvent(chromedp.MousePressed, h.X, h.Y, chromedp.ButtonType(input.MouseButtonLeft), chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MouseMoved, h.X, (h.Y+top.Y)/2, chromedp.ButtonType(input.MouseButtonLeft)),
		chromedp.MouseEvent(chromedp.MouseMoved, top.X, top.Y, chromedp.ButtonType(input.MouseButtonLeft)),
		chromedp.MouseEvent(chromedp.MouseReleased, top.X, top.Y, chromedp.ButtonType(input.MouseButtonLeft), chromedp.ClickCount(1)),
	)
	time.Sleep(100 * time.Millisecond)
}

// checkContent checks what the browser's forms became in the store.
func checkContent(t *testing.T, pg *quire.Page) {
	t.Helper()
	byType := map[string]map[string]any{}
	for _, bl := range pg.Blocks {
		var c map[string]any
		_ = json.Unmarshal(bl.Content, &c)
		byType[bl.Type] = c
	}
	checks := map[string]map[string]any{
		"heading":   {"text": "Welcome", "level": float64(2)},
		"paragraph": {"text": "A first paragraph. Unsaved."},
		"quote":     {"text": "To be or not to be", "cite": "Hamlet"},
		"code":      {"language": "go", "code": "package main"},
		"embed":     {"url": "https://example.com/video"},
		"image":     {"alt": "A red square"},
	}
	for typ, want := range checks {
		for k, v := range want {
			if byType[typ][k] != v {
				t.Errorf("%s.%s = %v, want %v", typ, k, byType[typ][k], v)
			}
		}
	}
	if html, _ := byType["rich_text"]["html"].(string); !strings.Contains(html, "Some rich text") {
		t.Errorf("rich text html %q", html)
	}
	if items, _ := byType["list"]["items"].([]any); len(items) != 2 || items[0] != "one" || items[1] != "two" {
		t.Errorf("list items %v", byType["list"]["items"])
	}
	if id, _ := byType["image"]["media_id"].(string); id == "" {
		t.Error("image block without media")
	}
}
