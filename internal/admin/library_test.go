package admin_test

import (
	"context"
	"encoding/json"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
	"github.com/quirecms/quire/internal/store"
)

// TestMediaLibrary uploads several files at once (one of a refused type),
// searches and filters, edits alt and title, sees which page uses a file,
// and takes a file through the trash, restore and purge.
func TestMediaLibrary(t *testing.T) {
	each(t, func(t *testing.T, in *instance) {
		ctx := context.Background()
		b := newBrowser(t, in)
		b.signIn(adminEmail, adminPassword)
		b.open("/admin/media")
		bad := filepath.Join(t.TempDir(), "page.html")
		if err := os.WriteFile(bad, []byte("<!doctype html><html><body><script>alert(1)</script></body></html>"), 0o644); err != nil {
			t.Fatal(err)
		}
		files := []string{pngFile(t, "red.png", color.RGBA{200, 0, 0, 255}), pngFile(t, "blue.png", color.RGBA{0, 0, 200, 255}), bad}
		b.do(chromedp.SetUploadFiles(chromedp.CSS("#files"), files))
		b.wait(`document.querySelectorAll("#upload-list li.done, #upload-list li.failed").length === 3`)
		if got := b.text("#upload-list li.failed"); !strings.Contains(got, "page.html") || !strings.Contains(got, "not allowed") {
			t.Errorf("the refused file: %q", got)
		}
		if n := run(b, chromedp.Evaluate[int](`document.querySelectorAll("#upload-list li.done progress[value='100']").length`)); n != 2 {
			t.Errorf("%d finished progress bars, want 2", n)
		}
		b.open("/admin/media")
		cards := func() int {
			return run(b, chromedp.Evaluate[int](`document.querySelectorAll("#media-grid .media-card").length`))
		}
		if n := cards(); n != 2 {
			t.Fatalf("library after upload: %d files", n)
		}
		b.screenshot("media")
		b.open("/admin/media?q=blue")
		if n := cards(); n != 1 {
			t.Errorf("search blue: %d", n)
		}
		b.open("/admin/media?type=application/pdf")
		if n := cards(); n != 0 {
			t.Errorf("PDF filter: %d", n)
		}

		admin := in.admin()
		list, _, err := in.srv.Media.List(ctx, admin, store.MediaFilter{Q: "red", Limit: 5})
		if err != nil || len(list) != 1 {
			t.Fatalf("red.png: %v %d", err, len(list))
		}
		red := list[0]
		content, _ := json.Marshal(map[string]string{"media_id": red.ID, "alt": "red"})
		if _, err := in.srv.Pages.Create(ctx, admin, service.NewPage{Title: "Uses red", Slug: "uses-red",
			Blocks: []quire.BlockInput{{Type: quire.BlockImage, Content: content}}}); err != nil {
			t.Fatal(err)
		}
		b.open("/admin/media/" + red.ID)
		if got := b.text("#used-by"); !strings.Contains(got, "/uses-red") {
			t.Errorf("used by: %q", got)
		}
		b.do(chromedp.SendKeys(chromedp.ID("alt"), "A red square"), chromedp.SendKeys(chromedp.ID("mtitle"), "Red"))
		b.submit(`form[action="/admin/media/` + red.ID + `"] button`)
		if got := b.text(".flash"); got != "File details saved." {
			t.Errorf("edit: %q", got)
		}
		if m, _ := in.srv.Media.Get(ctx, admin, red.ID); m.Alt != "A red square" || m.Title != "Red" {
			t.Errorf("stored alt/title: %q %q", m.Alt, m.Title)
		}

		// The blue file: trash, restore, trash again, purge.
		list, _, _ = in.srv.Media.List(ctx, admin, store.MediaFilter{Q: "blue", Limit: 5})
		blue := list[0]
		b.open("/admin/media/" + blue.ID)
		b.submit(`form[action$="/delete"] button`)
		b.open("/admin/media?trash=1")
		if n := cards(); n != 1 {
			t.Fatalf("trash: %d", n)
		}
		b.open("/admin/media/" + blue.ID)
		b.submit(`form[action$="/restore"] button`)
		if got := b.text(".flash"); got != "File restored from the trash." {
			t.Errorf("restore: %q", got)
		}
		b.submit(`form[action$="/delete"] button`)
		b.open("/admin/media/" + blue.ID)
		b.submit(`form[action$="/purge"] button`)
		if got := b.text(".flash"); got != "File removed for good." {
			t.Errorf("purge: %q", got)
		}
		if _, err := in.srv.Media.Get(ctx, admin, blue.ID); quire.ErrorCode(err) != quire.ENOTFOUND {
			t.Errorf("after purge: %v", err)
		}
		if v := b.cspViolations(); len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}
	})
}
