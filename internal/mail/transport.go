// Package mail sends Quire's outgoing mail: messages rendered from embedded
// templates, queued as durable River jobs in the transaction of the change
// that causes them (so a mail is never sent for a change that rolled back,
// and never lost once it committed), and delivered over SMTP by the job.
// See docs/security/accounts.md.
package mail

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Security is how the connection to the SMTP server is protected.
type Security string

const (
	// StartTLS (the default) upgrades a plain connection with STARTTLS and
	// refuses to go on when the server does not offer it.
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (smtps://, port 465).
	ImplicitTLS Security = "tls"
	// NoTLS sends in the clear; only when the URL says so (?tls=none), for a
	// relay on the same host or a test server.
	NoTLS Security = "none"
)

// Transport is where mail goes, parsed from QUIRE_SMTP_URL.
type Transport struct {
	Addr     string // host:port
	Host     string
	Username string
	Password string
	Security Security
}

// ParseURL reads smtp://user:pass@host:587 (STARTTLS required),
// smtps://user:pass@host:465 (implicit TLS) or smtp://host:25?tls=none
// (no encryption). The error never repeats the URL, which may hold a
// password.
func ParseURL(s string) (*Transport, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("must be smtp://[user:password@]host[:port] or smtps://…")
	}
	t := &Transport{Host: u.Hostname()}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		t.Security = StartTLS
		if port == "" {
			port = "587"
		}
	case "smtps":
		t.Security = ImplicitTLS
		if port == "" {
			port = "465"
		}
	default:
		return nil, fmt.Errorf("the scheme must be smtp or smtps, not %q", u.Scheme)
	}
	for k, v := range u.Query() {
		switch {
		case k == "tls" && len(v) == 1 && (v[0] == "none" || v[0] == "starttls") && u.Scheme == "smtp":
			t.Security = Security(v[0])
		default:
			return nil, fmt.Errorf("unknown option %q (the only one is tls=none or tls=starttls on smtp://)", k)
		}
	}
	if t.Host == "" {
		return nil, errors.New("names no host")
	}
	if u.User != nil {
		t.Username = u.User.Username()
		t.Password, _ = u.User.Password()
	}
	t.Addr = net.JoinHostPort(t.Host, port)
	return t, nil
}

// String describes the transport without its password, for the log.
func (t *Transport) String() string {
	user := ""
	if t.Username != "" {
		user = t.Username + "@"
	}
	return strings.Join([]string{"smtp", user + t.Addr, string(t.Security)}, " ")
}
