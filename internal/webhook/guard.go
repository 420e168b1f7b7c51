package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress: a delivery would have connected to an address
// inside the network (server-side request forgery).
var ErrForbiddenAddress = errors.New("destination address not allowed")

// blocked are ranges no delivery may reach unless private addresses are
// allowed, beyond what netip classifies: shared address space (carrier NAT),
// "this network", benchmarking, reserved, NAT64 (which can embed any IPv4
// address), 6to4 and Teredo relays, documentation ranges.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
}

// CheckAddr refuses an address that is loopback, private, link-local (which
// holds cloud metadata services, 169.254.169.254), unspecified, multicast,
// or in a blocked range; an IPv4-mapped IPv6 address is judged as the IPv4
// address it carries.
func CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return fmt.Errorf("%w: %s is not a public address", ErrForbiddenAddress, a)
	}
	for _, p := range blocked {
		if p.Contains(a) {
			return fmt.Errorf("%w: %s is in reserved range %s", ErrForbiddenAddress, a, p)
		}
	}
	return nil
}

// control runs after DNS resolution, on the very address the socket is
// about to connect to, so that a name resolving (or re-resolving) to an
// inside address is refused too.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrForbiddenAddress, address)
	}
	return CheckAddr(ap.Addr())
}

// maxResponseBytes caps what is read of a receiver's answer.
const maxResponseBytes = 64 << 10

// deliveryTimeout bounds one attempt, from connecting to the end of the body.
const deliveryTimeout = 10 * time.Second

// NewClient returns the HTTP client of deliveries: no proxy from the
// environment (it would connect on the delivery's behalf, unchecked), no
// redirects (a 3xx is a failed attempt), a 10-second limit, and unless
// allowPrivate, the address guard on every connection.
func NewClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = control
	}
	return &http.Client{
		Timeout: deliveryTimeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: deliveryTimeout,
			MaxIdleConns:          16,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
