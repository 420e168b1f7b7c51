// Package clientip finds the address of the client behind a request,
// trusting X-Forwarded-For only as far as the operator's own proxies.
package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrusted parses a comma-separated list of IPs or CIDRs
// ("10.0.0.0/8, 127.0.0.1"); empty string → nil, no error. Bad entry → error
// naming it. Empty items (a trailing comma) are skipped.
func ParseTrusted(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("clientip: trusted proxy %q: %w", item, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zones are not supported")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	// Addresses are unmapped before matching, so a ::ffff:a.b.c.d/n prefix
	// must become its IPv4 form or it would never match anything.
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// From returns the client address for r. It is the socket peer (r.RemoteAddr)
// unless that peer is inside one of the trusted prefixes; then
// X-Forwarded-For is walked from the right, skipping trusted addresses, and
// the first untrusted valid address is the client. A malformed header falls
// back to the peer. With no trusted prefixes the header is ignored entirely,
// so a forged X-Forwarded-For gains nothing.
//
// The result is unmapped and has no zone. It is the zero Addr only when
// r.RemoteAddr itself is unparsable (e.g. a Unix socket).
func From(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseHost(r.RemoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	// Each proxy appends the address it received from, so only the right
	// end of the list was written by hosts we trust; everything left of the
	// first untrusted entry is client-controlled and never looked at.
	entries := forwardedFor(r.Header)
	client := peer
	for i := len(entries) - 1; i >= 0; i-- {
		a := parseHost(strings.TrimSpace(entries[i]))
		if !a.IsValid() {
			return peer
		}
		client = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return client
}

// forwardedFor returns the X-Forwarded-For entries across all header lines,
// in order; repeated headers are equivalent to one comma-joined header.
func forwardedFor(h http.Header) []string {
	var out []string
	for _, line := range h.Values("X-Forwarded-For") {
		out = append(out, strings.Split(line, ",")...)
	}
	return out
}

// parseHost accepts "ip", "ip:port" and "[ipv6]:port"; some proxies (Azure,
// older IIS) include ports in X-Forwarded-For. The zero Addr means invalid.
func parseHost(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone("")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
