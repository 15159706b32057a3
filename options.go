package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"afimport/mappings"
	"afimport/readers"
)

// inputOptions are the input flags (readerFlags), as every command that
// reads inputs takes them.
type inputOptions struct {
	Format      string
	Delimiter   string
	Quote       string
	NullValues  []string
	Encoding    string
	MaxRowBytes int
}

func inputOptionsFrom(c *cli.Context) inputOptions {
	return inputOptions{
		Format: c.String("format"), Delimiter: c.String("delimiter"), Quote: c.String("quote"),
		NullValues: c.StringSlice("null-value"), Encoding: c.String("encoding"), MaxRowBytes: c.Int("max-row-bytes"),
	}
}

// readers is o as reader options, reading stdin for the path "-"; a
// mistake names its flag.
func (o inputOptions) readers(stdin io.Reader) (readers.Options, error) {
	r := readers.Options{Format: readers.Format(strings.ToLower(o.Format)), MaxRowBytes: o.MaxRowBytes, Stdin: stdin}
	switch r.Format {
	case readers.FormatAuto, readers.FormatCSV, readers.FormatNDJSON, readers.FormatParquet:
	case "jsonl":
		r.Format = readers.FormatNDJSON
	default:
		return r, fmt.Errorf("--format %q: want csv, ndjson or parquet", o.Format)
	}
	if d := o.Delimiter; d != "" {
		if d == `\t` || d == "tab" {
			d = "\t"
		}
		c, n := utf8.DecodeRuneInString(d)
		if n != len(d) || c == '\n' || c == '\r' || c == '"' {
			return r, fmt.Errorf("--delimiter %q: want one character such as , ; | or \\t", d)
		}
		r.CSV.Delimiter = c
	}
	if q := o.Quote; q != "" {
		c, n := utf8.DecodeRuneInString(q)
		if n != len(q) {
			return r, fmt.Errorf("--quote %q: want one character", q)
		}
		r.CSV.Quote = c
	}
	r.CSV.NullValues = o.NullValues
	r.CSV.Encoding = o.Encoding
	return r, nil
}

// mapped is o as reader options projected on the mapping's columns, with a
// flag mistake as a usage error: what check, preview and explain open
// their inputs with.
func (o inputOptions) mapped(m *mappings.Mapping, stdin io.Reader) (readers.Options, error) {
	r, err := o.readers(stdin)
	if err != nil {
		return r, usageErr("%v", err)
	}
	r.Columns = m.Columns()
	return r, nil
}

// windowOptions are the flags that place rows against the acceptance
// window (windowFlags).
type windowOptions struct {
	Now         string // RFC 3339; "" for the real clock
	AppTimezone string // "" for the mapping's
	Skew        time.Duration
}

func windowOptionsFrom(c *cli.Context) windowOptions {
	return windowOptions{Now: c.String("now"), AppTimezone: c.String("app-timezone"), Skew: c.Duration("skew")}
}

// clock is where the window is judged from.
type clock struct {
	now  time.Time
	loc  *time.Location
	skew time.Duration
}

// clock parses o for the mapping m; a mistake is a usage error.
func (o windowOptions) clock(m *mappings.Mapping) (clock, error) {
	ck := clock{now: time.Now(), loc: m.Timezone, skew: o.Skew}
	if s := o.Now; s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return ck, usageErr("--now %q: want RFC 3339, e.g. 2026-11-28T00:20:00-05:00", s)
		}
		ck.now = t
	}
	if name := o.AppTimezone; name != "" {
		loc, err := time.LoadLocation(name)
		if err != nil {
			return ck, usageErr("--app-timezone %q: unknown IANA timezone", name)
		}
		ck.loc = loc
	}
	if ck.loc == nil {
		ck.loc = time.UTC
	}
	return ck, nil
}

// loadMapping loads --mapping; any problem is a usage error (exit 2) that
// lists every mistake with its line:column.
func loadMapping(path string) (*mappings.Mapping, error) {
	if path == "" {
		return nil, usageErr("--mapping FILE is required (or set AFIMPORT_MAPPING)")
	}
	m, err := mappings.Load(path)
	if err != nil {
		return nil, usageErr("mapping:\n%v", err)
	}
	return m, nil
}

// flagsAfterArgs refuses a flag written after the arguments: the CLI stops
// reading flags at the first argument, so it would be taken as an input.
func flagsAfterArgs(c *cli.Context) error {
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") && a != readers.StdinPath {
			return usageErr("%q comes after the arguments: put every flag before them (afimport %s [flags] ARGS)", a, c.Command.Name)
		}
	}
	return nil
}

// expandInputs expands the arguments as import does; a mistake is a usage
// error.
func expandInputs(args []string) ([]string, error) {
	inputs, err := readers.Expand(args)
	return validInputs(args, inputs, err)
}

// validInputs turns what readers.Expand made of args into a usage error:
// Expand's, no input at all, or standard input among others.
func validInputs(args, inputs []string, err error) ([]string, error) {
	if err != nil {
		return nil, usageErr("%v", err)
	}
	if len(inputs) == 0 {
		return nil, usageErr("no input files found in %q", args)
	}
	if len(inputs) > 1 && contains(inputs, readers.StdinPath) {
		return nil, usageErr("standard input (-) cannot be combined with other inputs")
	}
	return inputs, nil
}
