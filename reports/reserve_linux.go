package reports

import (
	"errors"
	"os"
	"syscall"
)

// fallocKeepSize is FALLOC_FL_KEEP_SIZE: allocate without growing the file.
const fallocKeepSize = 1

// reserve allocates n bytes of disk past the end of f without changing its
// size, so that a full filesystem (or quota) shows before anything is sent
// rather than at the first flush. A filesystem that cannot preallocate is
// not an error.
func reserve(f *os.File, n int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	for {
		err = syscall.Fallocate(int(f.Fd()), fallocKeepSize, fi.Size(), n)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EINVAL) {
		return nil
	}
	return err
}
