package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/server"
	"github.com/quirecms/quire/internal/service"
)

// openAudit opens an existing database and the audit service over it, with
// the checkpoint key the server derives from its signing key.
func openAudit(ctx context.Context, cfg config.Config, createKey bool) (*service.Audit, func(), error) {
	db, err := openExisting(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	key, err := server.AuditKey(ctx, cfg, db, createKey)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return service.NewAudit(db, key), func() { db.Close() }, nil
}

// parseDate accepts 2006-01-02 (midnight UTC) or an RFC 3339 timestamp.
func parseDate(flagName, s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &config.UsageError{Err: fmt.Errorf("--%s must be a date (2006-01-02) or an RFC 3339 timestamp, got %q", flagName, s)}
	}
	return t, nil
}

func auditPrune(ctx context.Context, args []string, env Env) error {
	var before string
	cfg, err := load("audit prune", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&before, "before", "", "remove entries recorded before this date (2006-01-02 or RFC 3339); required")
	})
	if err != nil {
		return err
	}
	if before == "" {
		return &config.UsageError{Err: errors.New("--before is required")}
	}
	t, err := parseDate("before", before)
	if err != nil {
		return err
	}
	if !t.Before(time.Now()) {
		return &config.UsageError{Err: errors.New("--before must be in the past")}
	}
	// Pruning signs a checkpoint, so it needs the key, made now if the
	// server never ran; verify and export only read.
	audit, closeDB, err := openAudit(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer closeDB()
	cp, err := audit.Prune(ctx, t)
	if err != nil {
		return err
	}
	if cp == nil {
		fmt.Fprintln(env.Stdout, "nothing to prune")
		return nil
	}
	fmt.Fprintf(env.Stdout, "pruned %d entries through seq %d; checkpoint %s anchors the rest of the chain\n", cp.Pruned, cp.ThroughSeq, cp.ID)
	return nil
}

// exported is one line of `quire audit export`: every field the hash
// covers, in the form the canonical encoding uses (fixed-width time,
// user_id null when absent, details as its exact stored text, the API
// token fields "" when the entry has none and so is encoded as v1), plus
// the hash itself, so that an outside tool can re-verify the chain.
type exported struct {
	Seq          int64   `json:"seq"`
	ID           string  `json:"id"`
	At           string  `json:"at"`
	UserID       *string `json:"user_id"`
	APITokenID   string  `json:"api_token_id"`
	APITokenName string  `json:"api_token_name"`
	Action       string  `json:"action"`
	ResourceType string  `json:"resource_type"`
	ResourceID   string  `json:"resource_id"`
	Details      string  `json:"details"`
	RequestID    string  `json:"request_id"`
	IP           string  `json:"ip"`
	PrevHash     string  `json:"prev_hash"`
	Hash         string  `json:"hash"`
}

func auditExport(ctx context.Context, args []string, env Env) error {
	var since, format string
	cfg, err := load("audit export", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&since, "since", "", "export entries from the first one recorded at or after this date (2006-01-02 or RFC 3339); default all")
		fs.StringVar(&format, "format", "jsonl", "output format: jsonl (one JSON object per line)")
	})
	if err != nil {
		return err
	}
	if format != "jsonl" {
		return &config.UsageError{Err: fmt.Errorf("--format must be jsonl, got %q", format)}
	}
	var from *time.Time
	if since != "" {
		t, err := parseDate("since", since)
		if err != nil {
			return err
		}
		from = &t
	}
	audit, closeDB, err := openAudit(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer closeDB()
	w := bufio.NewWriter(env.Stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err = audit.Export(ctx, from, func(e *quire.AuditEntry) error {
		line := exported{Seq: e.Seq, ID: e.ID, At: e.At.UTC().Format(quire.AuditTimeLayout),
			APITokenID: e.APITokenID, APITokenName: e.APITokenName, Action: e.Action,
			ResourceType: e.ResourceType, ResourceID: e.ResourceID, Details: string(e.Details), RequestID: e.RequestID,
			IP: e.IP, PrevHash: e.PrevHash, Hash: e.Hash}
		if e.UserID != "" {
			line.UserID = &e.UserID
		}
		return enc.Encode(line)
	})
	if err != nil {
		return err
	}
	return w.Flush()
}
