package mappings

import (
	"errors"
	"time"

	"afimport/readers"
)

// Mapping is a loaded, checked mapping. It is safe for concurrent use.
//
// PLACEHOLDER: the real implementation replaces this file.
type Mapping struct {
	AppID         string
	Endpoint      Endpoint
	TimezoneName  string         // IANA name of the app's timezone
	Timezone      *time.Location // the app's timezone (default UTC)
	InputTimezone *time.Location // zone for timestamps without an offset (default UTC)
}

// Load reads and checks a mapping file. Its error is ConfigErrors when the
// file was read but is wrong.
func Load(path string) (*Mapping, error) { return nil, errors.New("not implemented") }

// Columns lists the source columns the mapping reads, in the order Apply
// expects their values.
func (m *Mapping) Columns() []string { return nil }

// Apply maps one row (values aligned with Columns) into a payload. Its
// error is a *FieldError.
func (m *Mapping) Apply(values []readers.Value) (*Payload, error) {
	return nil, errors.New("not implemented")
}
