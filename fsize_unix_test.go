//go:build unix

package main

import (
	"strconv"
	"syscall"
)

// limitFileSize limits the size of the files this process writes, so that
// writes past it fail (EFBIG; Go ignores SIGXFSZ): a disk that fills up
// mid-run.
func limitFileSize(s string) error {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return err
	}
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n})
}
