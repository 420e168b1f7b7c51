package server

import (
	"path/filepath"

	"github.com/quirecms/quire/internal/config"
)

// SigningKeyFile is where a SQLite instance keeps its generated signing
// key (PostgreSQL keeps it in instance_secrets), for export and import.
func SigningKeyFile(cfg config.Config) string { return filepath.Join(cfg.DataDir, "jwt.key") }
