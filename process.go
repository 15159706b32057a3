package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"afimport/internal/memlimit"
)

// streams are a command's standard streams and whether they are
// terminals. They are injected, so a test runs a command with its own
// buffers, in parallel with others.
type streams struct {
	In            io.Reader
	Out           io.Writer
	Err           io.Writer
	OutIsTerminal bool // preview: readable blocks rather than JSON lines
	ErrIsTerminal bool // import: a progress bar rather than log lines
}

// process is what the commands take from the process besides their flags
// and arguments. osProcess is the real one; tests build their own.
type process struct {
	streams
	// Args is the command line, the program name first.
	Args []string
	// LookupEnv reads AF_S2S_TOKEN and GOMEMLIMIT. (urfave/cli reads the
	// AFIMPORT_* variables of the flags from the process itself.)
	LookupEnv func(key string) (string, bool)
	// GovernMemory keeps the process within budget bytes through the Go
	// runtime's soft memory limit, or above when the working set needs
	// more, until ctx ends (memlimit.Governor on its own goroutine).
	GovernMemory func(ctx context.Context, budget int64)
	// Notify relays SIGINT and SIGTERM to ch until stop is called; nil
	// when no signal reaches the command.
	Notify func(ch chan<- os.Signal) (stop func())
	// Exit ends the process at once (a second signal during an import).
	Exit func(code int)
}

// osProcess is the process afimport runs in.
func osProcess(args []string) process {
	return process{
		streams: streams{
			In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
			OutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
			ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		},
		Args:      args,
		LookupEnv: os.LookupEnv,
		GovernMemory: func(ctx context.Context, budget int64) {
			go memlimit.Governor{Budget: budget}.Run(ctx)
		},
		Notify: func(ch chan<- os.Signal) func() {
			signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
			return func() { signal.Stop(ch) }
		},
		Exit: os.Exit,
	}
}

// getenv is the variable's value, "" when unset.
func (p process) getenv(key string) string {
	if p.LookupEnv == nil {
		return ""
	}
	v, _ := p.LookupEnv(key)
	return v
}

// notifyContext is ctx, cancelled by the first SIGINT or SIGTERM.
func (p process) notifyContext(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	if p.Notify == nil {
		return ctx, cancel
	}
	ch := make(chan os.Signal, 1)
	stopNotify := p.Notify(ch)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			cancel()
		case <-done:
		}
	}()
	return ctx, func() { stopNotify(); close(done); cancel() }
}
