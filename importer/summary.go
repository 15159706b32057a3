package importer

import (
	"time"

	"afimport/readers"
)

// Summary describes a finished (or stopped) run.
type Summary struct {
	DryRun   bool
	Started  time.Time
	Finished time.Time
	// Rows counts input rows seen; Counts splits them by final status.
	Rows   int64
	Counts map[Status]int64
	// ByApp splits the rows that were mapped by their app id and final
	// status (mappings with app_id: { column: C } send to several apps).
	ByApp map[string]map[Status]int64
	// Retries counts requests sent again; Seen429 the 429 answers.
	Retries int64
	Seen429 int64
	// Reasons are the most frequent distinct reasons, most frequent first.
	Reasons []ReasonCount
	// AppTimezone names the zone deadlines are shown in; EarliestDeadline
	// is the nearest deadline among rows still sendable (zero if none), as
	// seen at Now (the run's clock).
	AppTimezone      string
	EarliestDeadline time.Time
	Now              time.Time
	// FailedFiles lists inputs that could not be read (to the end).
	FailedFiles []FileError
	// MissingInputs lists inputs named on the command line that are not
	// there: a missing file, an empty folder, a glob matching nothing
	// (the export did not arrive). A run with any has read nothing.
	MissingInputs []FileError
	// MaxInvalid is the error budget for invalid rows (--max-invalid).
	MaxInvalid Budget
	// Refused says why the run stopped before sending anything (the
	// budget pre-check); "" otherwise. Reasons then describe the rows
	// the pre-check read.
	Refused string
	// Aborted is why the API stopped the run (401/403), "" otherwise.
	Aborted string
	// Unreachable is why the run stopped sending when the endpoint gave no
	// answer for Options.OutageAfter, "" otherwise.
	Unreachable string
	// DeadlineRisks are the deadline forecasts that saw rows missing their
	// deadline at the rate the run measured: the worst for each deadline.
	DeadlineRisks []DeadlineRisk
	// Interrupted is true when a signal stopped the run.
	Interrupted bool
	// StoppedReading, for an interrupted run that had not read all of its
	// inputs, is the last row read (Row 0: none of that file); the rest of
	// that file and the inputs after it were not read.
	StoppedReading *readers.Pos
	// Warnings are things a person should read (a burst of 400s for one
	// rule, a run that will outlast a deadline, ...).
	Warnings []string
	// PeakRSS is the process's peak resident memory in bytes, 0 when
	// unknown. Run leaves it to the caller (it is the process's, not the
	// run's); the CLI fills it in.
	PeakRSS int64
}

// ReasonCount is one distinct reason and how many rows had it.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// FileError is an input that could not be read.
type FileError struct {
	File string `json:"file"`
	Err  string `json:"error"`
}

// Elapsed is the run's wall time.
func (s *Summary) Elapsed() time.Duration { return s.Finished.Sub(s.Started) }

// RowsPerSecond is the throughput over the run's wall time.
func (s *Summary) RowsPerSecond() float64 {
	if d := s.Elapsed().Seconds(); d > 0 {
		return float64(s.Rows) / d
	}
	return 0
}
