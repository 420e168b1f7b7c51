package config

import (
	"slices"
	"strings"
	"testing"
)

func TestMediaSettings(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"QUIRE_MEDIA_TYPES":         "image/png, image/jpeg",
		"QUIRE_MEDIA_VARIANT_SIZES": "100,200",
		"QUIRE_S3_ENDPOINT":         "http://127.0.0.1:7070",
		"QUIRE_S3_BUCKET":           "media",
		"QUIRE_S3_ACCESS_KEY":       "key",
		"QUIRE_S3_SECRET_KEY_FILE":  writeFile(t, "s3-secret-value\n"),
		"QUIRE_S3_PATH_STYLE":       "true",
	})
	if !slices.Equal(c.MediaTypeList(), []string{"image/png", "image/jpeg"}) || !slices.Equal(c.VariantSizeList(), []int{100, 200}) {
		t.Errorf("lists = %v, %v", c.MediaTypeList(), c.VariantSizeList())
	}
	if c.S3SecretKey != "s3-secret-value" || !c.S3PathStyle {
		t.Errorf("S3 settings = %+v", c)
	}
	if got := c.MediaStorage(); got != "s3 http://127.0.0.1:7070 bucket media" {
		t.Errorf("MediaStorage() = %q", got)
	}
	if got := Default().MediaStorage(); !strings.HasPrefix(got, "local ") || !strings.HasSuffix(got, "media") {
		t.Errorf("default MediaStorage() = %q", got)
	}

	for name, tc := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"type":           {map[string]string{"QUIRE_MEDIA_TYPES": "png"}, []string{"QUIRE_MEDIA_TYPES", "media type"}},
		"size":           {map[string]string{"QUIRE_MEDIA_VARIANT_SIZES": "100,huge"}, []string{"QUIRE_MEDIA_VARIANT_SIZES", "huge"}},
		"size too big":   {map[string]string{"QUIRE_MEDIA_VARIANT_SIZES": "100000"}, []string{"QUIRE_MEDIA_VARIANT_SIZES"}},
		"path style":     {map[string]string{"QUIRE_S3_PATH_STYLE": "yes please"}, []string{"QUIRE_S3_PATH_STYLE", "true or false"}},
		"endpoint":       {map[string]string{"QUIRE_S3_ENDPOINT": "s3.example.com"}, []string{"QUIRE_S3_ENDPOINT", "http"}},
		"endpoint alone": {map[string]string{"QUIRE_S3_ENDPOINT": "https://s3.example.com"}, []string{"QUIRE_S3_BUCKET", "QUIRE_S3_SECRET_KEY"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := load(t, tc.env)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// The secret key never appears in the logged configuration.
func TestLogValueHidesS3Secret(t *testing.T) {
	c := mustLoad(t, map[string]string{"QUIRE_S3_ENDPOINT": "https://s3.example.com", "QUIRE_S3_BUCKET": "b",
		"QUIRE_S3_ACCESS_KEY": "k", "QUIRE_S3_SECRET_KEY": "very-secret-s3-key"})
	if s := c.LogValue().String(); strings.Contains(s, "very-secret-s3-key") || !strings.Contains(s, "s3.example.com") {
		t.Errorf("LogValue = %s", s)
	}
}
