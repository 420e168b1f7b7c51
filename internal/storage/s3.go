package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names a bucket on an S3-compatible service.
type S3Config struct {
	Endpoint  string // URL: https://s3.eu-west-1.amazonaws.com, http://127.0.0.1:7070
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	PathStyle bool   // bucket in the path rather than the host name (most self-hosted services)
	Prefix    string // prepended to every key, so that installations can share a bucket
}

// S3 keeps objects in a bucket. Several nodes pointing at the same bucket
// see the same objects.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
	label  string
}

// s3PartSize bounds the memory an upload of unknown length holds: the
// client buffers one part at a time (5 MiB is S3's smallest part).
const s3PartSize = 5 << 20

// NewS3 connects to the bucket and checks that it exists.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("QUIRE_S3_ENDPOINT must be an http:// or https:// URL")
	}
	if c.Prefix != "" {
		if err := CheckKey(strings.TrimSuffix(c.Prefix, "/")); err != nil {
			return nil, errors.New("QUIRE_S3_PREFIX must be lowercase letters, digits, '.', '-', '_' and '/'")
		}
		c.Prefix = strings.TrimSuffix(c.Prefix, "/") + "/"
	}
	lookup := minio.BucketLookupDNS
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       c.Region,
		BucketLookup: lookup,
		MaxRetries:   3,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client: %w", err)
	}
	s := &S3{client: client, bucket: c.Bucket, prefix: c.Prefix, label: "s3 " + u.Host + "/" + c.Bucket + "/" + c.Prefix}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ok, err := client.BucketExists(cctx, c.Bucket)
	if err != nil {
		return nil, fmt.Errorf("S3 bucket %q at %s: %w", c.Bucket, u.Host, err)
	}
	if !ok {
		return nil, fmt.Errorf("S3 bucket %q does not exist at %s; create it first", c.Bucket, u.Host)
	}
	return s, nil
}

func (s *S3) String() string { return s.label }

// Put streams r to key. A failed upload is aborted, so nothing is left
// under key (an upload cut short by a crash is cleaned by the bucket's
// lifecycle rule for incomplete multipart uploads).
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	info, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, r, -1, minio.PutObjectOptions{
		PartSize: s3PartSize, ContentType: "application/octet-stream",
	})
	if err != nil {
		return 0, err
	}
	return info.Size, nil
}

// Open returns a seekable reader that fetches byte ranges on demand.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.mapErr(err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, s.mapErr(err)
	}
	return &s3Object{Object: obj, size: st.Size, mod: st.LastModified}, nil
}

func (s *S3) mapErr(err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return ErrNotExist
	}
	return fmt.Errorf("storage: %w", err)
}

type s3Object struct {
	*minio.Object
	size int64
	mod  time.Time
}

func (o *s3Object) Size() int64        { return o.size }
func (o *s3Object) ModTime() time.Time { return o.mod }

// Delete removes key; S3 answers a missing key with success.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil {
		return s.mapErr(err)
	}
	return nil
}

// List lists the objects under prefix, in key order.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine if fn fails
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("storage: list %q: %w", prefix, o.Err)
		}
		if err := fn(Info{Key: strings.TrimPrefix(o.Key, s.prefix), Size: o.Size, ModTime: o.LastModified}); err != nil {
			return err
		}
	}
	return nil
}
