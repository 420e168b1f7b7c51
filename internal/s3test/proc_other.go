//go:build !linux

package s3test

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

// lockFile is a no-op here: two test binaries may both build the server,
// and the atomic rename keeps the result whole either way.
func lockFile(string) (func(), error) { return func() {}, nil }
