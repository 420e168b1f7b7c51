package server

import (
	"log/slog"
	"time"

	"github.com/quirecms/quire/internal/config"
	"github.com/quirecms/quire/internal/mail"
)

// newOutbox makes the mail outbox: disabled (Enabled false) without
// QUIRE_SMTP_URL, so that admins hand over links themselves.
func newOutbox(cfg config.Config, instanceKey []byte, retryBase time.Duration, log *slog.Logger) (*mail.Outbox, error) {
	var t *mail.Transport
	if cfg.SMTPURL != "" {
		var err error
		if t, err = mail.ParseURL(cfg.SMTPURL); err != nil {
			return nil, err
		}
	}
	return mail.New(mail.Config{Transport: t, From: cfg.MailFrom, InstanceKey: instanceKey, RetryBase: retryBase, Log: log})
}
