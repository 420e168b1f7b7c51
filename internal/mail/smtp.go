package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"time"
)

// sendTimeout bounds one delivery attempt, connection to QUIT.
const sendTimeout = 30 * time.Second

// errPermanent marks a refusal that another attempt would not change (an
// SMTP 5xx reply, a server without STARTTLS): the job gives up at once.
var errPermanent = errors.New("permanent")

// send delivers raw (an encoded message) from from to to over t.
func (t *Transport) send(ctx context.Context, from, to string, raw []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", t.Addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if t.Security == ImplicitTLS {
		conn = tls.Client(conn, &tls.Config{ServerName: t.Host, MinVersion: tls.VersionTLS12})
	}
	c, err := smtp.NewClient(conn, t.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp greeting: %w", classify(err))
	}
	defer c.Close()
	if t.Security == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%w: the SMTP server %s does not offer STARTTLS, which QUIRE_SMTP_URL requires (add ?tls=none to send in the clear)", errPermanent, t.Addr)
		}
		if err := c.StartTLS(&tls.Config{ServerName: t.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if t.Username != "" {
		// PlainAuth itself refuses to send the password in the clear to
		// anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", t.Username, t.Password, t.Host)); err != nil {
			return fmt.Errorf("smtp auth: %w", classify(err))
		}
	}
	fromAddr, err := mail.ParseAddress(from)
	if err != nil {
		return fmt.Errorf("%w: QUIRE_MAIL_FROM: %v", errPermanent, err)
	}
	toAddr, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("%w: recipient: %v", errPermanent, err)
	}
	if err := c.Mail(fromAddr.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", classify(err))
	}
	if err := c.Rcpt(toAddr.Address); err != nil {
		return fmt.Errorf("RCPT TO: %w", classify(err))
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", classify(err))
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", classify(err))
	}
	_ = c.Quit()
	return nil
}

// classify marks SMTP 5xx replies permanent.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	return err
}
