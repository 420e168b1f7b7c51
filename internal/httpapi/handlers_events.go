package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/eventstream"
	"github.com/quirecms/quire/internal/service"
)

// Bounds of the live streams.
const (
	streamsPerUser    = 5  // authenticated streams per user, per node
	streamsPerAddress = 10 // public streams per client address, per node
	streamHeartbeat   = 15 * time.Second
	streamWriteWait   = 30 * time.Second
	streamBatch       = 200
)

// streamEvents is GET /api/v1/events: every event the caller may see, as
// Server-Sent Events, resuming after Last-Event-ID.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	release, ok := a.Events.Acquire("user:"+p.UserID, streamsPerUser)
	if !ok {
		writeError(w, r, &quire.Error{Code: quire.ETOOMANY, Message: fmt.Sprintf("at most %d event streams per user; close one first", streamsPerUser), RetryAfter: 5})
		return
	}
	defer release()
	a.stream(w, r, func(ev *quire.Event) (string, any) {
		if !eventstream.VisibleTo(p, ev) {
			return "", nil
		}
		return ev.Type, ev
	})
}

// publicEvent is what the public stream says: which published slug changed.
type publicEvent struct {
	Type         string `json:"type"`
	Slug         string `json:"slug"`
	PreviousSlug string `json:"previous_slug,omitempty"`
	At           string `json:"at"`
}

// streamPublicEvents is GET /api/v1/public/events: only changes to what
// the public API shows, by slug, so that a front-end revalidates exactly
// those pages (and the public settings when one changed).
func (a *API) streamPublicEvents(w http.ResponseWriter, r *http.Request) {
	release, ok := a.Events.Acquire("addr:"+service.MetaFrom(r.Context()).IP, streamsPerAddress)
	if !ok {
		writeError(w, r, &quire.Error{Code: quire.ETOOMANY, Message: fmt.Sprintf("at most %d public event streams per address", streamsPerAddress), RetryAfter: 5})
		return
	}
	defer release()
	a.stream(w, r, func(ev *quire.Event) (string, any) {
		if !ev.Public || (ev.ResourceType != "page" && ev.ResourceType != "setting") {
			return "", nil
		}
		return ev.Type, publicEvent{Type: ev.Type, Slug: ev.Slug, PreviousSlug: ev.PreviousSlug, At: ev.At.UTC().Format(time.RFC3339Nano)}
	})
}

// lastEventID reads where a client resumes: the Last-Event-ID header (set
// by EventSource on reconnect) or ?last_event_id=.
func lastEventID(r *http.Request) (int64, bool, error) {
	s := r.Header.Get("Last-Event-ID")
	if s == "" {
		s = r.URL.Query().Get("last_event_id")
	}
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, false, quire.Invalid(quire.FieldError{Field: "Last-Event-ID", Message: "must be the id of an event this stream sent"})
	}
	return n, true, nil
}

// stream writes events after the client's position as they are recorded.
// shape returns the SSE event name and data for an event, or "" to skip
// it (its id is still sent, so a resume does not replay it).
func (a *API) stream(w http.ResponseWriter, r *http.Request, shape func(*quire.Event) (string, any)) {
	ctx := r.Context()
	last, resume, err := lastEventID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	first, head, err := a.Events.Bounds(ctx)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	write := func(f func(io.Writer)) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteWait))
		f(w)
		return rc.Flush() == nil
	}
	reset := resume && first > 0 && last < first-1
	if !write(func(w io.Writer) {
		fmt.Fprintf(w, "retry: 3000\n\n")
		if reset { // the client's position was pruned: it must refetch what it shows
			fmt.Fprintf(w, "id: %d\nevent: reset\ndata: {\"reason\":\"the events after your Last-Event-ID are older than the retention window\"}\n\n", head)
		}
	}) {
		return
	}
	if !resume || reset || last > head {
		last = head
	}
	beat := time.NewTicker(streamHeartbeat)
	defer beat.Stop()
	for {
		wake := a.Events.Wake()
		evs, err := a.Events.After(ctx, last, streamBatch)
		if err != nil {
			return // the client reconnects and resumes
		}
		if len(evs) > 0 && !write(func(w io.Writer) {
			for _, ev := range evs {
				name, data := shape(ev)
				if name == "" {
					fmt.Fprintf(w, "id: %d\n\n", ev.Seq)
					continue
				}
				b, _ := json.Marshal(data)
				fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, name, b)
			}
		}) {
			return
		}
		if len(evs) > 0 {
			last = evs[len(evs)-1].Seq
		}
		if len(evs) == streamBatch {
			continue
		}
		select {
		case <-wake:
		case <-beat.C:
			if !write(func(w io.Writer) { fmt.Fprint(w, ": heartbeat\n\n") }) {
				return
			}
		case <-ctx.Done():
			return
		case <-a.Events.Done():
			return
		}
	}
}
