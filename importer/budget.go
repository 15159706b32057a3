package importer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Budget is an error budget for invalid rows (--max-invalid): a count
// ("250") or a share of the rows counted ("5%"). The zero value allows no
// invalid row, which is the behaviour without a budget.
type Budget struct {
	limit   float64 // rows, or percent when percent is true
	percent bool
	set     bool
}

// ParseBudget reads "N" (a row count) or "N%" (a percentage, decimals
// allowed). An empty string is the zero Budget.
func ParseBudget(s string) (Budget, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Budget{}, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
			return Budget{}, fmt.Errorf("%q: want a percentage from 0%% to 100%%, e.g. 5%%", s)
		}
		return Budget{limit: v, percent: true, set: true}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return Budget{}, fmt.Errorf("%q: want a number of rows (e.g. 250) or a percentage (e.g. 5%%)", s)
	}
	return Budget{limit: float64(n), set: true}, nil
}

// IsSet reports whether a budget was given (ParseBudget of a non-empty
// string).
func (b Budget) IsSet() bool { return b.set }

// String is the budget as the user writes it: "250", "5%"; "0" for the
// zero Budget.
func (b Budget) String() string {
	v := strconv.FormatFloat(b.limit, 'f', -1, 64)
	if b.percent {
		return v + "%"
	}
	return v
}

// Allows reports whether invalid rows out of counted rows are within the
// budget (at or under it).
func (b Budget) Allows(invalid, counted int64) bool {
	if invalid <= 0 {
		return true
	}
	if b.percent {
		// invalid/counted <= limit/100, without rounding surprises.
		return float64(invalid)*100 <= b.limit*float64(counted)
	}
	return float64(invalid) <= b.limit
}

// BudgetSampleRows is how many rows the budget pre-check reads before
// anything is sent.
const BudgetSampleRows = 1000

// ErrOverBudget means the budget pre-check refused the run: the first
// BudgetSampleRows rows (or the whole input, if smaller) already hold more
// invalid rows than --max-invalid allows. Nothing was sent.
var ErrOverBudget = errors.New("over the invalid-row budget before sending")

// BudgetRows is the number of rows the budget is measured against: the
// rows read less those skipped (accepted in an earlier run).
func (s *Summary) BudgetRows() int64 {
	return s.Rows - s.Counts[StatusSkipped] - s.Counts[StatusFiltered]
}

// OverBudget reports whether the invalid rows exceed s.MaxInvalid (with
// no budget: whether there is any), or the pre-check refused the run.
func (s *Summary) OverBudget() bool {
	if s.Refused != "" {
		return true
	}
	return !s.MaxInvalid.Allows(s.Counts[StatusInvalid], s.BudgetRows())
}

// Exit codes: the contract with cron and orchestrators.
const (
	ExitOK          = 0   // every row accepted or skipped (dry run: valid), invalid rows within the budget
	ExitRowsFailed  = 1   // finished, but rows were not accepted, or an input was missing or unreadable
	ExitUsage       = 2   // usage or mapping error: nothing was sent
	ExitAborted     = 3   // the API refused the token or app: the run stopped
	ExitInterrupted = 130 // SIGINT/SIGTERM: report flushed, resumable
)

// ExitCode turns a run's outcome into the documented exit code. runErr is
// Run's error. Invalid rows count against s.MaxInvalid; late, future,
// rejected, failed and not_sent rows always make it 1, as do inputs that
// are missing or could not be read.
func ExitCode(s *Summary, runErr error) int {
	switch {
	case errors.Is(runErr, ErrInputChanged):
		return ExitUsage
	case s.Interrupted:
		return ExitInterrupted
	case s.Aborted != "":
		return ExitAborted
	case runErr != nil, len(s.FailedFiles) > 0, len(s.MissingInputs) > 0, s.OverBudget():
		return ExitRowsFailed
	}
	for st, n := range s.Counts {
		switch st {
		case StatusAccepted, StatusSkipped, StatusValid, StatusInvalid, StatusFiltered:
		default:
			if n > 0 {
				return ExitRowsFailed
			}
		}
	}
	return ExitOK
}

// BudgetLine phrases the budget's verdict for the summary: "" when no
// budget was given and nothing is over it.
func (s *Summary) BudgetLine() string {
	if s.Refused != "" {
		return "" // the refusal says it
	}
	inv, n := s.Counts[StatusInvalid], s.BudgetRows()
	if !s.MaxInvalid.IsSet() {
		return ""
	}
	share := 0.0
	if n > 0 {
		share = float64(inv) * 100 / float64(n)
	}
	verdict := "within"
	if s.OverBudget() {
		verdict = "over"
	}
	return fmt.Sprintf("invalid rows: %d of %d (%.1f%%), %s --max-invalid %s", inv, n, share, verdict, s.MaxInvalid)
}

// CheckBudget runs the budget pre-check of Run alone, so that a caller can
// refuse the run before it creates its report: it returns the Summary of
// the refusal (Refused set) when the first rows are over opts.MaxInvalid,
// nil when they are within it or no budget is given. Results is not
// needed. The error is newRun's (a mapped column the first input lacks)
// or ErrInputChanged on a resume.
func CheckBudget(ctx context.Context, opts Options) (*Summary, error) {
	if !opts.MaxInvalid.IsSet() {
		return nil, nil
	}
	if opts.Results == nil {
		opts.Results = discard{}
	}
	if opts.Sender == nil {
		opts.DryRun = true // nothing is sent here either way
	}
	r, err := newRun(opts)
	if err != nil {
		return nil, err
	}
	r.summary.Started = time.Now()
	r.summary.Now = r.clock.Now()
	refused := r.budgetPrecheck(ctx)
	if r.first != nil {
		r.first.Close()
	}
	if err := r.fatalErr(); err != nil {
		return nil, err
	}
	if !refused {
		return nil, nil
	}
	r.summary.Finished = time.Now()
	return &r.summary, nil
}

// discard is a ResultWriter that keeps nothing.
type discard struct{}

func (discard) Write(*Result) error { return nil }
func (discard) Flush() error        { return nil }
