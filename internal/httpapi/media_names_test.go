package httpapi_test

import (
	"mime"
	"strings"
	"testing"

	"github.com/quirecms/quire/internal/testdb"
)

// A file's name takes the extension of the type detected from its bytes,
// in the record, its URL and the download name: a text file named
// update.bat is listed and saved as update.txt, PNG bytes named a.html as
// a.png.
func TestMediaNameMatchesType(t *testing.T) {
	eachStorage(t, nil, func(t *testing.T, e *env) {
		tok := e.admin().AccessToken
		for _, c := range []struct {
			name string
			data []byte
			want string
		}{
			{"update.bat", []byte("@echo off\r\ndel /q C:\\*\r\n"), "update.txt"},
			{"run.cmd", []byte("start calc.exe\r\n"), "run.txt"},
			{"payload.hta", []byte("a payload that is only text\n"), "payload.txt"},
			{"a.html", pngOf(4, 4, 1), "a.png"},
			{"photo", jpegOf(8, 8, 2), "photo.jpg"},
			{"Holiday.JPEG", jpegOf(8, 8, 3), "Holiday.JPEG"},
			{"notes.txt", []byte("plain notes\n"), "notes.txt"},
			{"scan.exe", pdfOK, "scan.pdf"},
			{"anim.webp.js", gifOf(4, 4), "anim.webp.gif"},
		} {
			m := e.mustUpload(tok, c.name, c.data)
			if m.Filename != c.want || !strings.HasSuffix(m.URL, "/"+c.want) {
				t.Errorf("%s: filename %q, url %q; want %q", c.name, m.Filename, m.URL, c.want)
				continue
			}
			r := e.do("GET", m.URL, "", nil).want(t, 200)
			_, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
			if err != nil || params["filename"] != c.want {
				t.Errorf("%s: Content-Disposition %q", c.name, r.Header.Get("Content-Disposition"))
			}
		}
	})
}

// Media stored before names were made to agree keeps its URL, but is
// downloaded under a name with the right extension.
func TestMediaOldNameServedWithTypeExtension(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		m := e.mustUpload(e.admin().AccessToken, "update.txt", []byte("@echo off\r\n"))
		testdb.Tamper(t, dsn, `UPDATE media SET filename = ? WHERE id = ?`, "update.bat", m.ID)
		r := e.do("GET", "/media/"+m.ID+"/update.bat", "", nil).want(t, 200)
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
		if params["filename"] != "update.txt" {
			t.Fatalf("Content-Disposition %q", r.Header.Get("Content-Disposition"))
		}
	})
}
