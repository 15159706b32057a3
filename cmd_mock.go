package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"afimport/importer/s2stest"
)

// mockOptions are mock's flags.
type mockOptions struct {
	Addr, TokenFile, AppTimezone string
	Config                       s2stest.Config // all but the token and the timezone
	TLSCert, TLSKey              string
}

func mockOptionsFrom(c *cli.Context) mockOptions {
	return mockOptions{
		Addr: c.String("addr"), TokenFile: c.String("token-file"), AppTimezone: c.String("app-timezone"),
		Config: s2stest.Config{
			Latency: c.Duration("latency"), Jitter: c.Duration("jitter"),
			RateLimit: c.Float64("rate-limit"), Seed: c.Int64("seed"),
			Faults: s2stest.Faults{
				P429: c.Float64("p429"), P5xx: c.Float64("p5xx"), PDrop: c.Float64("pdrop"),
				RetryAfter: c.String("retry-after"),
			},
		},
		TLSCert: c.String("tls-cert"), TLSKey: c.String("tls-key"),
	}
}

// runMock serves the mock S2S API until ctx ends or a signal comes,
// logging to p.Err.
func runMock(ctx context.Context, o mockOptions, p process) (int, error) {
	loc, err := time.LoadLocation(o.AppTimezone)
	if err != nil {
		return exitUsage, fmt.Errorf("--app-timezone %q: unknown IANA timezone", o.AppTimezone)
	}
	logger, _ := newLogger("text", p.Err)
	token, err := loadToken(o.TokenFile, p.getenv(tokenEnv), logger)
	if err != nil {
		return exitUsage, err
	}
	cfg := o.Config
	cfg.Token, cfg.AppTimezone = token, loc
	if err := cfg.Validate(); err != nil {
		return exitUsage, err
	}
	ctx, stop := p.notifyContext(ctx)
	defer stop()
	logf := func(format string, a ...any) { fmt.Fprintf(p.Err, format+"\n", a...) }
	serve := s2stest.ListenAndServe
	if o.TLSCert != "" || o.TLSKey != "" {
		if o.TLSCert == "" || o.TLSKey == "" {
			return exitUsage, fmt.Errorf("--tls-cert and --tls-key go together")
		}
		serve = func(ctx context.Context, addr string, cfg s2stest.Config, logf func(string, ...any)) error {
			return s2stest.ListenAndServeTLS(ctx, addr, cfg, o.TLSCert, o.TLSKey, logf)
		}
	}
	if err := serve(ctx, o.Addr, cfg, logf); err != nil {
		return exitRowsFailed, err
	}
	return exitOK, nil
}
