package httpapi_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/s3test"
	"github.com/quirecms/quire/internal/testdb"
)

// Several quire serve nodes sharing one database and one bucket see the
// same library: what one uploads, deletes, restores, resizes or purges,
// the other serves accordingly at once (each file request reads the
// record; variants are found in the bucket).
func TestMediaSeveralNodesShareTheLibrary(t *testing.T) {
	srv := s3test.Start(t)
	testdb.Each(t, func(t *testing.T, dsn string) {
		bucket := srv.Bucket(t)
		shared := func(c *config.Config) {
			withSecret(c) // both nodes sign and accept the same tokens
			useS3(c, srv, bucket)
		}
		a, b := newEnv(t, dsn, shared), newEnv(t, dsn, shared)
		tok := a.admin().AccessToken
		data := jpegOf(300, 200, 9)
		m := a.mustUpload(tok, "shared.jpg", data)

		r := b.do("GET", m.URL, "", nil).want(t, 200)
		if !bytes.Equal(r.Body, data) || r.Header.Get("ETag") != a.do("GET", m.URL, "", nil).Header.Get("ETag") {
			t.Fatal("node b serves other bytes or another ETag")
		}
		if ids := mediaWalk(t, b, "/api/v1/media", tok, 10); !slices.Equal(ids, []string{m.ID}) {
			t.Fatalf("node b lists %v", ids)
		}
		var again quire.Media
		b.upload(tok, "again.jpg", data).want(t, 200).json(t, &again)
		if again.ID != m.ID {
			t.Fatal("dedup across nodes failed")
		}

		v := b.do("GET", m.URL+"?w=64", "", nil).want(t, 200)
		if b.srv.Media.VariantsGenerated() != 1 {
			t.Fatal("node b did not make the variant")
		}
		if va := a.do("GET", m.URL+"?w=64", "", nil).want(t, 200); !bytes.Equal(va.Body, v.Body) || a.srv.Media.VariantsGenerated() != 0 {
			t.Fatal("node a did not serve node b's variant from the bucket")
		}

		a.do("DELETE", "/api/v1/media/"+m.ID, tok, nil).want(t, 204)
		wantProblem(t, b.do("GET", m.URL, "", nil), http.StatusNotFound, "")
		b.do("POST", "/api/v1/media/"+m.ID+"/restore", tok, nil).want(t, 200)
		a.do("GET", m.URL, "", nil).want(t, 200)
		b.do("DELETE", "/api/v1/media/"+m.ID+"?purge=true", tok, nil).want(t, 204)
		wantProblem(t, a.do("GET", m.URL, "", nil), http.StatusNotFound, "")
		wantProblem(t, a.do("GET", m.URL+"?w=64", "", nil), http.StatusNotFound, "")
		if keys := a.storedKeys(); len(keys) != 0 {
			t.Fatalf("bucket holds %v after the purge", keys)
		}
	})
}
