package testdb

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of the test PostgreSQL server that a test
// can break: Stall holds every byte (a network partition), Refuse closes
// every connection and the listening port (the server is down).
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	stall  chan struct{} // closed while traffic flows
}

// NewProxy starts a proxy to the host of the PostgreSQL URL dsn and
// returns it with dsn rewritten to go through it.
func NewProxy(t testing.TB, dsn string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: u.Host, stall: make(chan struct{})}
	close(p.stall)
	go p.accept()
	t.Cleanup(p.Refuse)
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// pipe copies src to dst, waiting while the proxy stalls.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		gate := p.stall
		p.mu.Unlock()
		<-gate
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			return
		}
	}
}

// Stall stops all traffic, in both directions, until Resume.
func (p *Proxy) Stall() {
	p.mu.Lock()
	p.stall = make(chan struct{})
	p.mu.Unlock()
}

// Resume lets traffic flow again.
func (p *Proxy) Resume() {
	p.mu.Lock()
	select {
	case <-p.stall:
	default:
		close(p.stall)
	}
	p.mu.Unlock()
}

// Refuse closes the port and every connection: new connections are
// refused, as by a server that is down.
func (p *Proxy) Refuse() {
	p.ln.Close()
	p.Resume()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
