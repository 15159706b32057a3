package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"afimport/importer/s2stest"
)

func mockAction(c *cli.Context) error {
	loc, err := time.LoadLocation(c.String("app-timezone"))
	if err != nil {
		return usageErr("--app-timezone %q: unknown IANA timezone", c.String("app-timezone"))
	}
	logger, _ := newLogger("text", os.Stderr)
	token, err := loadToken(c.String("token-file"), logger)
	if err != nil {
		return usageErr("%v", err)
	}
	cfg := s2stest.Config{
		Token:       token,
		Latency:     c.Duration("latency"),
		Jitter:      c.Duration("jitter"),
		RateLimit:   c.Float64("rate-limit"),
		Seed:        c.Int64("seed"),
		AppTimezone: loc,
		Faults: s2stest.Faults{
			P429: c.Float64("p429"), P5xx: c.Float64("p5xx"), PDrop: c.Float64("pdrop"),
			RetryAfter: c.String("retry-after"),
		},
	}
	if err := cfg.Validate(); err != nil {
		return usageErr("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	serve := s2stest.ListenAndServe
	if cert, key := c.String("tls-cert"), c.String("tls-key"); cert != "" || key != "" {
		if cert == "" || key == "" {
			return usageErr("--tls-cert and --tls-key go together")
		}
		serve = func(ctx context.Context, addr string, cfg s2stest.Config, logf func(string, ...any)) error {
			return s2stest.ListenAndServeTLS(ctx, addr, cfg, cert, key, logf)
		}
	}
	if err := serve(ctx, c.String("addr"), cfg, logf); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}
