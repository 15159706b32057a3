//go:build unix

package reports

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive flock on f without waiting. The kernel
// releases it when the last descriptor of f closes, so a process killed
// with SIGKILL leaves no stale lock. It returns errBusy when another open
// file holds it.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errBusy
		}
		return err
	}
}

// lockHolder returns the pid of the process holding the flock on f, or 0
// when it cannot tell (only Linux says, in /proc/locks; a pid there may be
// the process that took the lock before passing the file on).
func lockHolder(f *os.File) int {
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	locks, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer locks.Close()
	return holderIn(bufio.NewScanner(locks), uint64(st.Dev), uint64(st.Ino))
}

// holderIn finds the FLOCK holder of the file (dev, ino) in /proc/locks
// lines such as "3: FLOCK  ADVISORY  WRITE 4242 08:01:123456 0 EOF"
// (waiters are marked "->" and skipped).
func holderIn(sc *bufio.Scanner, dev, ino uint64) int {
	// Linux's new_encode_dev, as /proc/locks prints MAJOR:MINOR.
	major := (dev>>8)&0xfff | (dev>>32)&^uint64(0xfff)
	minor := dev&0xff | (dev>>12)&^uint64(0xff)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] != "FLOCK" {
			continue
		}
		parts := strings.Split(f[5], ":")
		if len(parts) != 3 {
			continue
		}
		ma, err1 := strconv.ParseUint(parts[0], 16, 64)
		mi, err2 := strconv.ParseUint(parts[1], 16, 64)
		in, err3 := strconv.ParseUint(parts[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || ma != major || mi != minor || in != ino {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}
