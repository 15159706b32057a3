package s2stest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// Server is a mock listening on a loopback port, like httptest.Server.
type Server struct {
	h   *Handler
	srv *http.Server
	url string
}

// NewServer starts a mock on 127.0.0.1:0. It panics if it cannot listen or
// cfg is invalid. Close it when done.
func NewServer(cfg Config) *Server {
	h := NewHandler(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("s2stest: listen: " + err.Error())
	}
	s := &Server{h: h, srv: newHTTPServer(h), url: "http://" + ln.Addr().String()}
	go func() { _ = s.srv.Serve(ln) }()
	return s
}

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // hijacked and aborted connections are the point
	}
}

// URL is the base URL, e.g. http://127.0.0.1:43127, without a trailing slash.
func (s *Server) URL() string { return s.url }

// EventURL is the event endpoint for app.
func (s *Server) EventURL(app string) string { return s.url + EventPath + app }

// VisitURL is the visit endpoint for app.
func (s *Server) VisitURL(app string) string { return s.url + VisitPath + app }

// Handler is the server's handler.
func (s *Server) Handler() *Handler { return s.h }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.h.Stats() }

// Reset clears the counters and the Script progress.
func (s *Server) Reset() { s.h.Reset() }

// Close stops the server and closes its connections, blocking until done.
func (s *Server) Close() { _ = s.srv.Close() }

// ListenAndServe runs a mock on addr until ctx is done, then shuts it down
// gracefully (in-flight requests get up to 5 seconds) and returns nil. It
// returns an error if cfg is invalid or addr cannot be listened on. logf, if
// not nil, gets the listening address and the shutdown; never a line per
// request.
func ListenAndServe(ctx context.Context, addr string, cfg Config, logf func(string, ...any)) error {
	return serve(ctx, addr, cfg, "", "", logf)
}

// ListenAndServeTLS is ListenAndServe over HTTPS with the PEM certificate
// and key in certFile and keyFile; it offers HTTP/2 and HTTP/1.1 (ALPN).
func ListenAndServeTLS(ctx context.Context, addr string, cfg Config, certFile, keyFile string, logf func(string, ...any)) error {
	if certFile == "" || keyFile == "" {
		return errors.New("s2s mock: TLS needs both a certificate and a key file")
	}
	return serve(ctx, addr, cfg, certFile, keyFile, logf)
}

func serve(ctx context.Context, addr string, cfg Config, certFile, keyFile string, logf func(string, ...any)) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("s2s mock: %w", err)
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	srv := newHTTPServer(NewHandler(cfg))
	scheme := "http"
	if certFile != "" {
		// Loaded before listening, so that a bad file is an error, not
		// a server that fails every handshake.
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("s2s mock: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("s2s mock: %w", err)
	}
	errc := make(chan error, 1)
	go func() {
		if scheme == "https" {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	logf("s2s mock listening on %s://%s", scheme, ln.Addr())

	select {
	case err := <-errc:
		return fmt.Errorf("s2s mock: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	logf("s2s mock on %s stopped", ln.Addr())
	if err != nil {
		return fmt.Errorf("s2s mock: shutdown: %w", err)
	}
	return nil
}
