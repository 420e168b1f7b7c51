package httpapi

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the request counter (by method, route and status) and the
// latency histogram (by method and route) that /metrics exposes.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// byPattern caches the children of mounted handlers' routes (the
	// admin's), keyed by their ServeMux pattern; it holds only patterns,
	// so it stays as small as those handlers' route tables.
	byPattern sync.Map // string → *routeMetrics
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quire_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "quire_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// routeMetrics holds the metric children of one route, so that a request
// does not look its labels up in the vectors. Each child is resolved the
// first time the route needs it (the histogram on the first request, a
// counter on the first answer with its status), so /metrics shows no
// series for routes nobody called, as when the vectors were asked each time.
type routeMetrics struct {
	m        *metrics
	method   string // of the pattern; a HEAD served by a GET route takes the slow path
	route    string // the label: the pattern's path
	once     sync.Once
	duration prometheus.Observer
	mu       sync.Mutex
	counters atomic.Pointer[map[int]prometheus.Counter] // copied on write
}

func (m *metrics) forRoute(method, route string) *routeMetrics {
	rm := &routeMetrics{m: m, method: method, route: route}
	rm.counters.Store(&map[int]prometheus.Counter{})
	return rm
}

// mounted returns the children of a mounted handler's route, given its
// ServeMux pattern ("GET /admin/pages/{id}", or "/admin/" for any method).
// The route label is the pattern's path; a pattern without a method takes
// observe's slow path with the request's method, as unmatched requests do.
func (m *metrics) mounted(pattern string) *routeMetrics {
	if rm, ok := m.byPattern.Load(pattern); ok {
		return rm.(*routeMetrics)
	}
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	rm, _ := m.byPattern.LoadOrStore(pattern, m.forRoute(method, strings.TrimSpace(path)))
	return rm.(*routeMetrics)
}

func (rm *routeMetrics) observer() prometheus.Observer {
	rm.once.Do(func() { rm.duration = rm.m.duration.WithLabelValues(rm.method, rm.route) })
	return rm.duration
}

func (rm *routeMetrics) counter(status int) prometheus.Counter {
	if c, ok := (*rm.counters.Load())[status]; ok {
		return c
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	old := *rm.counters.Load()
	if c, ok := old[status]; ok {
		return c
	}
	c := rm.m.requests.WithLabelValues(rm.method, rm.route, strconv.Itoa(status))
	next := make(map[int]prometheus.Counter, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[status] = c
	rm.counters.Store(&next)
	return c
}

// observe counts one request and its duration.
func (m *metrics) observe(rm *routeMetrics, method string, status int, d time.Duration) {
	if rm != nil && method == rm.method {
		rm.counter(status).Inc()
		rm.observer().Observe(d.Seconds())
		return
	}
	route := "unmatched"
	if rm != nil {
		route = rm.route
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}
