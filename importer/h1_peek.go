//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package importer

import (
	"crypto/tls"
	"syscall"
)

// closedWhileIdle reports whether the server closed (or wrote to) a pooled
// connection while it sat idle: a non-blocking MSG_PEEK on the socket
// reads end of file, an error, or bytes nobody asked for (for TLS, the
// close_notify alert).
func closedWhileIdle(cn *h1Conn) bool {
	if cn.br.Buffered() > 0 {
		return true
	}
	nc := cn.c
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && !(err == syscall.EINTR && n < 0)
		return true
	})
	return closed || err != nil
}
