package config

import (
	"strings"
	"testing"
)

func TestPreviewURL(t *testing.T) {
	if c := mustLoad(t, nil); c.PreviewURL != "" {
		t.Fatalf("default PreviewURL = %q, want empty", c.PreviewURL)
	}
	tmpl := "https://site.example/api/preview?token={token}&slug={slug}"
	if c := mustLoad(t, map[string]string{"QUIRE_PREVIEW_URL": tmpl}); c.PreviewURL != tmpl {
		t.Fatalf("PreviewURL = %q", c.PreviewURL)
	}
	if c := mustLoad(t, nil, "--preview-url", "http://localhost:4321/preview/{token}"); c.PreviewURL != "http://localhost:4321/preview/{token}" {
		t.Fatalf("flag: PreviewURL = %q", c.PreviewURL)
	}
	for _, bad := range []string{
		"https://site.example/api/preview?slug={slug}", // no token: the front-end could fetch nothing
		"ftp://site.example/{token}",
		"/api/preview?token={token}",
		"https://user:pw@site.example/{token}",
	} {
		_, _, err := load(t, map[string]string{"QUIRE_PREVIEW_URL": bad})
		if err == nil || !strings.Contains(err.Error(), "QUIRE_PREVIEW_URL") {
			t.Errorf("QUIRE_PREVIEW_URL=%q: err = %v, want one naming the variable", bad, err)
		}
	}
}
