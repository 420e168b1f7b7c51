package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/quirecms/quire"
)

// readPassword prompts twice on a terminal; otherwise it reads one line
// from stdin. Passwords never come from flags, which end up in shell
// history and process listings.
func readPassword(env Env) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(env.Stderr, "Repeat password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords do not match")
		}
		return string(a), nil
	}
	if env.Stdin == nil {
		return "", errNoPassword
	}
	// Read at most one line of the longest password allowed (4 bytes a
	// character) plus its line ending; a longer line is refused below
	// rather than silently cut.
	r := bufio.NewReaderSize(io.LimitReader(env.Stdin, 4*quire.MaxPasswordLen+3), 4*quire.MaxPasswordLen+3)
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	if err != nil && len(line) > 4*quire.MaxPasswordLen+1 {
		return "", errors.New("password must be at most 1024 characters")
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errNoPassword
	}
	return line, nil
}

var errNoPassword = errors.New("no password on stdin: pipe it in, e.g. printf '%s\\n' \"$PW\" | quire user create --email … --role …")
