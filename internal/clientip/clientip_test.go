package clientip

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParseTrusted(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"10.0.0.0/8, 127.0.0.1", []string{"10.0.0.0/8", "127.0.0.1/32"}},
		{"::1,fd00::/8,", []string{"::1/128", "fd00::/8"}},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}},
		{"::ffff:10.0.0.1", []string{"10.0.0.1/32"}},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTrusted(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].String() != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestParseTrustedErrors(t *testing.T) {
	for _, in := range []string{"10.0.0.0/33", "localhost", "10.0.0.1, nope", "1.2.3.4:80", "fe80::1%eth0", "10.0.0.0/"} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseTrusted(in)
			if err == nil {
				t.Fatal("no error")
			}
			bad := strings.TrimSpace(in[strings.LastIndex(in, ",")+1:])
			if !strings.Contains(err.Error(), bad) {
				t.Fatalf("error %q does not name %q", err, bad)
			}
		})
	}
}

func TestFrom(t *testing.T) {
	trusted, err := ParseTrusted("10.0.0.0/8, 192.168.1.1, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no trusted: header ignored", "203.0.113.7:5000", []string{"1.1.1.1"}, nil, "203.0.113.7"},
		{"untrusted peer: header ignored", "203.0.113.7:5000", []string{"1.1.1.1"}, trusted, "203.0.113.7"},
		{"trusted peer, no header", "10.0.0.2:5000", nil, trusted, "10.0.0.2"},
		{"trusted peer: rightmost untrusted", "10.0.0.2:5000", []string{"6.6.6.6, 198.51.100.4, 10.9.9.9"}, trusted, "198.51.100.4"},
		{"forged left entries skipped", "10.0.0.2:5000", []string{"garbage, 1.1.1.1, 198.51.100.4"}, trusted, "198.51.100.4"},
		{"all entries trusted: leftmost", "10.0.0.2:5000", []string{"10.1.1.1, 192.168.1.1, 10.2.2.2"}, trusted, "10.1.1.1"},
		{"multiple headers", "10.0.0.2:5000", []string{"6.6.6.6, 198.51.100.4", "10.3.3.3"}, trusted, "198.51.100.4"},
		{"spaces", "10.0.0.2:5000", []string{"  198.51.100.4  ,10.3.3.3 "}, trusted, "198.51.100.4"},
		{"garbage header", "10.0.0.2:5000", []string{"not-an-ip"}, trusted, "10.0.0.2"},
		{"garbage after client", "10.0.0.2:5000", []string{"198.51.100.4, nope"}, trusted, "10.0.0.2"},
		{"empty entry", "10.0.0.2:5000", []string{"198.51.100.4,,10.3.3.3"}, trusted, "10.0.0.2"},
		{"empty header", "10.0.0.2:5000", []string{""}, trusted, "10.0.0.2"},
		{"entry with port", "10.0.0.2:5000", []string{"198.51.100.4:1234"}, trusted, "198.51.100.4"},
		{"ipv6 peer and entry", "[fd00::1]:443", []string{"2001:db8::5, fd00::2"}, trusted, "2001:db8::5"},
		{"mapped peer is trusted", "[::ffff:10.0.0.2]:5000", []string{"198.51.100.4"}, trusted, "198.51.100.4"},
		{"mapped entry unmapped", "10.0.0.2:5000", []string{"::ffff:198.51.100.4"}, trusted, "198.51.100.4"},
		{"mapped untrusted peer unmapped", "[::ffff:203.0.113.7]:5000", nil, nil, "203.0.113.7"},
		{"zone stripped", "[fe80::1%eth0]:5000", nil, nil, "fe80::1"},
		{"peer without port", "203.0.113.7", nil, nil, "203.0.113.7"},
		{"unparsable peer", "@", []string{"1.1.1.1"}, trusted, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := From(r, tt.trusted); got.String() != tt.want {
				t.Fatalf("From = %v, want %v", got, tt.want)
			}
		})
	}
}
