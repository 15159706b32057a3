package s2s

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// TransportError is why an attempt got no HTTP answer, in words that do not
// change from one connection to the next: no addresses, ports or request
// ids, so that a summary's "top reasons" add up.
type TransportError struct {
	// Reason is the normalized sentence: "connection refused", "timeout
	// waiting for the answer", ...
	Reason string
	// Err is the error net/http returned, for logs and errors.Is/As; its
	// text may name addresses and ports.
	Err error
}

func (e *TransportError) Error() string { return e.Reason }
func (e *TransportError) Unwrap() error { return e.Err }

// describe turns a transport error into a TransportError whose Reason
// groups: what failed, and at which step of the attempt.
func describe(err error, p progress) error {
	return &TransportError{Reason: reasonOf(err, p), Err: err}
}

func reasonOf(err error, p progress) string {
	step := "waiting for the answer"
	switch {
	case !p.connected:
		step = "connecting"
	case !p.wrote:
		step = "sending the request"
	}
	var dnsErr *net.DNSError
	var certInvalid x509.CertificateInvalidError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recHdr tls.RecordHeaderError
	var tlsAlert tls.AlertError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled " + step
	case errors.As(err, &dnsErr):
		// Before timeouts: a lookup that timed out is a DNS failure, not
		// a server that did not answer.
		switch {
		case dnsErr.IsNotFound:
			return "DNS: no such host"
		case dnsErr.IsTimeout:
			return "DNS lookup timed out"
		}
		return "DNS lookup failed"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return "timeout " + step
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the server " + step
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, syscall.EPIPE):
		return "connection closed by the server " + step
	case errors.As(err, &unknownAuth):
		return "TLS: certificate signed by an unknown authority"
	case errors.As(err, &hostErr):
		return "TLS: certificate is not valid for this host"
	case errors.As(err, &certInvalid):
		return "TLS: certificate is not valid (expired or not yet valid)"
	case errors.As(err, &recHdr):
		return "TLS: the server does not speak TLS"
	case errors.As(err, &tlsAlert):
		return "TLS handshake refused by the server"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed by the server " + step
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "malformed"), strings.Contains(msg, "bogus"),
		strings.Contains(msg, "invalid"), strings.Contains(msg, "too long"),
		strings.Contains(msg, "protocol error"):
		return "malformed answer from the server"
	case strings.Contains(msg, "server closed idle connection"):
		return "connection closed by the server " + step
	case strings.Contains(msg, "tls:"):
		return "TLS handshake failed"
	case strings.Contains(msg, "http2:"):
		return "HTTP/2 error " + step
	}
	return "connection failed " + step
}
