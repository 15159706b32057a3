package importer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBudget(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		set     bool
		wantErr string
	}{
		{"", "0", false, ""},
		{"0", "0", true, ""},
		{"250", "250", true, ""},
		{"5%", "5%", true, ""},
		{" 2.5 % ", "2.5%", true, ""},
		{"100%", "100%", true, ""},
		{"101%", "", false, "percentage"},
		{"-1", "", false, "number of rows"},
		{"5 percent", "", false, "number of rows"},
		{"NaN%", "", false, "percentage"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := ParseBudget(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, b.String())
			assert.Equal(t, tt.set, b.IsSet())
		})
	}
}

func TestBudgetAllows(t *testing.T) {
	pct := func(s string) Budget { b, err := ParseBudget(s); require.NoError(t, err); return b }
	tests := []struct {
		budget           string
		invalid, counted int64
		want             bool
	}{
		{"", 0, 100, true},
		{"", 1, 100, false},
		{"5%", 5, 100, true}, // at the budget is within it
		{"5%", 6, 100, false},
		{"5%", 30, 1000, true},
		{"5%", 0, 0, true},
		{"3", 3, 10, true},
		{"3", 4, 1000000, false},
		{"0.1%", 1, 1000, true},
		{"0.1%", 2, 1000, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, pct(tt.budget).Allows(tt.invalid, tt.counted), "%s: %d of %d", tt.budget, tt.invalid, tt.counted)
	}
}

func TestExitCode(t *testing.T) {
	five, err := ParseBudget("5%")
	require.NoError(t, err)
	counts := func(kv ...any) map[Status]int64 {
		m := map[Status]int64{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(Status)] = int64(kv[i+1].(int))
		}
		return m
	}
	rows := func(c map[Status]int64) int64 {
		var n int64
		for _, v := range c {
			n += v
		}
		return n
	}
	tests := []struct {
		name   string
		sum    Summary
		runErr error
		want   int
	}{
		{"all accepted", Summary{Counts: counts(StatusAccepted, 10)}, nil, ExitOK},
		{"invalid, no budget", Summary{Counts: counts(StatusAccepted, 97, StatusInvalid, 3)}, nil, ExitRowsFailed},
		{"invalid within 5%", Summary{Counts: counts(StatusAccepted, 97, StatusInvalid, 3), MaxInvalid: five}, nil, ExitOK},
		{"invalid over 5%", Summary{Counts: counts(StatusAccepted, 90, StatusInvalid, 10), MaxInvalid: five}, nil, ExitRowsFailed},
		{"skipped rows are not in the base", Summary{Counts: counts(StatusSkipped, 900, StatusAccepted, 94, StatusInvalid, 6), MaxInvalid: five}, nil, ExitRowsFailed},
		{"dry run within budget", Summary{DryRun: true, Counts: counts(StatusValid, 97, StatusInvalid, 3), MaxInvalid: five}, nil, ExitOK},
		{"late is not in the budget", Summary{Counts: counts(StatusAccepted, 99, StatusLate, 1), MaxInvalid: five}, nil, ExitRowsFailed},
		{"future", Summary{DryRun: true, Counts: counts(StatusValid, 99, StatusFuture, 1), MaxInvalid: five}, nil, ExitRowsFailed},
		{"rejected", Summary{Counts: counts(StatusAccepted, 99, StatusRejected, 1), MaxInvalid: five}, nil, ExitRowsFailed},
		{"failed", Summary{Counts: counts(StatusAccepted, 99, StatusFailed, 1), MaxInvalid: five}, nil, ExitRowsFailed},
		{"refused before sending", Summary{Counts: counts(), MaxInvalid: five, Refused: "over"}, nil, ExitRowsFailed},
		{"missing input", Summary{Counts: counts(), MissingInputs: []FileError{{File: "x/"}}}, nil, ExitRowsFailed},
		{"unreadable input", Summary{Counts: counts(StatusAccepted, 3), FailedFiles: []FileError{{File: "x.csv"}}}, nil, ExitRowsFailed},
		{"interrupted", Summary{Counts: counts(StatusAccepted, 3), Interrupted: true}, nil, ExitInterrupted},
		{"aborted", Summary{Counts: counts(StatusFailed, 3), Aborted: "401"}, nil, ExitAborted},
		{"changed input", Summary{Counts: counts()}, ErrInputChanged, ExitUsage},
		{"run error", Summary{Counts: counts(StatusAccepted, 3)}, errors.New("disk full"), ExitRowsFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sum.Rows = rows(tt.sum.Counts)
			assert.Equal(t, tt.want, ExitCode(&tt.sum, tt.runErr))
		})
	}
}

// badEvery makes every n-th row of rows invalid (n <= 0: none).
func badEvery(rows [][]string, n int) [][]string {
	for i := range rows {
		if n > 0 && i%n == n-1 {
			rows[i] = []string{"bad", ""}
		}
	}
	return rows
}

func TestRunBudgetPrecheck(t *testing.T) {
	tests := []struct {
		name       string
		rows       [][]string
		budget     string
		dry        bool
		refused    bool
		wantExit   int
		wantSample string
	}{
		// 1 row in 34 is invalid: 2.9%.
		{"3% invalid under 5%: sent", badEvery(ids(3000), 34), "5%", false, false, ExitOK, ""},
		{"dry run, same budget", badEvery(ids(3000), 34), "5%", true, false, ExitOK, ""},
		{"every other row invalid: refused", badEvery(ids(3000), 2), "5%", false, true, ExitRowsFailed, "the first 1000 rows hold 500 invalid (50.0%)"},
		{"small input over budget: refused", badEvery(ids(40), 2), "5%", false, true, ExitRowsFailed, "all 40 rows hold 20 invalid"},
		{"absolute budget", badEvery(ids(3000), 50), "10", false, true, ExitRowsFailed, "over --max-invalid 10"},
		{"no budget: no pre-check", badEvery(ids(3000), 2), "", false, false, ExitRowsFailed, ""},
		// The first 1000 rows are clean, the rest is broken: the
		// pre-check passes and the budget fails the run at the end.
		{"breaks after the sample", append(ids(1000), badEvery(ids(1000), 1)...), "5%", false, false, ExitRowsFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int64
			s := SenderFunc(func(context.Context, string, []byte) Response { sent.Add(1); return Response{Status: 202} })
			res := &memResults{}
			o := baseOpts(tt.rows, s, res)
			if tt.dry {
				o.Sender, o.DryRun = nil, true
			}
			var err error
			o.MaxInvalid, err = ParseBudget(tt.budget)
			require.NoError(t, err)
			sum, err := Run(context.Background(), o)
			require.NoError(t, err)
			assert.Equal(t, tt.wantExit, ExitCode(sum, nil))
			if !tt.refused {
				assert.Empty(t, sum.Refused)
				assert.Len(t, res.all, len(tt.rows), "every row has its line")
				return
			}
			assert.Zero(t, sent.Load(), "a refused run sends nothing")
			assert.Len(t, res.all, 0, "a refused run writes no report line")
			assert.Contains(t, sum.Refused, tt.wantSample)
			assert.Contains(t, sum.Refused, "nothing was sent")
			require.NotEmpty(t, sum.Reasons, "the top reasons of the sample")
			assert.Contains(t, sum.Reasons[0].Reason, `"id"`)
			assert.True(t, sum.OverBudget())
		})
	}
}

func TestBudgetLine(t *testing.T) {
	five, err := ParseBudget("5%")
	require.NoError(t, err)
	s := &Summary{Rows: 1000, Counts: map[Status]int64{StatusAccepted: 970, StatusInvalid: 30}, MaxInvalid: five}
	assert.Equal(t, "invalid rows: 30 of 1000 (3.0%), within --max-invalid 5%", s.BudgetLine())
	s.Counts = map[Status]int64{StatusAccepted: 930, StatusInvalid: 70}
	assert.Equal(t, "invalid rows: 70 of 1000 (7.0%), over --max-invalid 5%", s.BudgetLine())
	assert.Empty(t, (&Summary{Rows: 3, Counts: map[Status]int64{StatusInvalid: 3}}).BudgetLine(), "no budget given, no line")
}

func TestCheckBudgetAlone(t *testing.T) {
	five, err := ParseBudget("5%")
	require.NoError(t, err)
	o := baseOpts(badEvery(ids(2000), 2), nil, nil)
	o.Results, o.MaxInvalid = nil, five
	sum, err := CheckBudget(context.Background(), o)
	require.NoError(t, err)
	require.NotNil(t, sum, "over budget: refused")
	assert.Contains(t, sum.Refused, "the first 1000 rows hold 500 invalid")
	assert.Equal(t, ExitRowsFailed, ExitCode(sum, nil))

	o = baseOpts(badEvery(ids(2000), 50), nil, nil)
	o.Results, o.MaxInvalid = nil, five
	sum, err = CheckBudget(context.Background(), o)
	require.NoError(t, err)
	assert.Nil(t, sum, "within budget: go ahead")

	o.MaxInvalid = Budget{}
	sum, err = CheckBudget(context.Background(), o)
	require.NoError(t, err)
	assert.Nil(t, sum, "no budget, no check")
}
