package admin

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

const auditSize = 50

// diffRow is one field of an entry's details: before and after.
type diffRow struct {
	Field, Before, After string
	Changed              bool
}

type auditRow struct {
	E    *quire.AuditEntry
	Diff []diffRow
	Who  string
}

type auditData struct {
	F       map[string]string
	Rows    []auditRow
	Next    template.URL
	Verify  *quire.AuditVerification
	Actions []string
}

// diff reads an entry's details ({"before": {...}, "after": {...}} or a
// flat object) into rows a person can read.
func diff(details json.RawMessage) []diffRow {
	var d map[string]json.RawMessage
	if json.Unmarshal(details, &d) != nil {
		return nil
	}
	var before, after map[string]json.RawMessage
	_ = json.Unmarshal(d["before"], &before)
	_ = json.Unmarshal(d["after"], &after)
	rows := map[string]*diffRow{}
	show := func(raw json.RawMessage) string {
		if raw == nil {
			return "—"
		}
		return prettyJSON(raw)
	}
	for k, v := range before {
		rows[k] = &diffRow{Field: k, Before: show(v), After: "—"}
	}
	for k, v := range after {
		if r, ok := rows[k]; ok {
			r.After = show(v)
		} else {
			rows[k] = &diffRow{Field: k, Before: "—", After: show(v)}
		}
	}
	for k, v := range d {
		if k == "before" || k == "after" {
			continue
		}
		rows[k] = &diffRow{Field: k, Before: "", After: show(v)}
	}
	out := make([]diffRow, 0, len(rows))
	for _, r := range rows {
		r.Changed = r.Before != r.After && r.Before != ""
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// auditLog is GET /audit-log of the API (admins) with the same filters,
// and, on ?verify=1, GET /audit-log/verify.
func (a *Admin) auditLog(w http.ResponseWriter, r *http.Request) {
	u, q := current(r.Context()), r.URL.Query()
	d := auditData{F: map[string]string{}}
	f := store.AuditFilter{Limit: auditSize + 1}
	var v quire.Validator
	for _, k := range []string{"resource_type", "resource_id", "user_id", "action", "since", "until"} {
		d.F[k] = q.Get(k)
		v.Check(len(d.F[k]) <= 200, k, "must be at most 200 characters")
	}
	f.ResourceType, f.ResourceID, f.UserID, f.Action = d.F["resource_type"], d.F["resource_id"], d.F["user_id"], d.F["action"]
	for name, dst := range map[string]**time.Time{"since": &f.Since, "until": &f.Until} {
		if s := d.F[name]; s != "" {
			t, err := parseWhen(s)
			if err != nil {
				v.Add(name, "must be a date and time such as 2026-01-02T15:04")
				continue
			}
			*dst = &t
		}
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		v.Check(err == nil && n > 0, "before", "is not a position in this log")
		f.BeforeSeq = n
	}
	if err := v.Err(); err != nil {
		a.fail(w, r, err)
		return
	}
	if q.Get("verify") == "1" {
		res, err := a.Audit.Verify(r.Context(), u.P)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		d.Verify = &res
	}
	entries, err := a.Audit.List(r.Context(), u.P, f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if len(entries) > auditSize {
		entries = entries[:auditSize]
		next := url.Values{}
		for k, val := range d.F {
			if val != "" {
				next.Set(k, val)
			}
		}
		next.Set("before", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
		d.Next = template.URL(Prefix + "/audit?" + next.Encode()) // built from escaped values
	}
	names, err := a.userNames(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for _, e := range entries {
		who := names[e.UserID]
		if who == "" {
			who = e.UserID
		}
		d.Rows = append(d.Rows, auditRow{E: e, Diff: diff(e.Details), Who: who})
	}
	p := a.newPage(r, "Audit log", "audit")
	p.Data = d
	a.render(w, r, http.StatusOK, "audit", p)
}

// parseWhen takes RFC 3339 or what a datetime-local field sends (UTC).
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04", s)
}
