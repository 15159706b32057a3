package mappings

import "fmt"

// Endpoint is the S2S endpoint a mapping targets.
type Endpoint string

const (
	EndpointEvent Endpoint = "event"
	EndpointVisit Endpoint = "visit"
)

// Payload is one row mapped and validated, ready to send.
type Payload struct {
	// Body is the JSON request body exactly as it will be sent, including
	// customer_dedup_id when dedup is on.
	Body []byte
	// Timestamp is the payload's timestamp in Unix ms (UTC); valid when
	// HasTimestamp. Rows without one are stamped by the API on receipt.
	Timestamp    int64
	HasTimestamp bool
	// DedupID is the customer_dedup_id sent ("" when the mapping says
	// dedup: none).
	DedupID string
	// AppID is the app the payload goes to: the mapping's constant app_id
	// or the row's own (app_id: { column: C }). Always set.
	AppID string
}

// FieldError is why a row could not be mapped: the target field, the source
// column (empty for constants) and the rule that failed. It never carries
// the field's value.
type FieldError struct {
	Field  string // target field, dotted: "user_id.customer_user_id"
	Column string // source column, "" when none
	Rule   string // short rule name: "required", "max_length", "email", ...
	Err    error  // human sentence, without the value
}

func (e *FieldError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("field %q (column %q): %s: %v", e.Field, e.Column, e.Rule, e.Err)
	}
	return fmt.Sprintf("field %q: %s: %v", e.Field, e.Rule, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// ConfigError is one mistake in a mapping file, with its YAML position.
type ConfigError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// ConfigErrors is every mistake found in a mapping, in file order.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	s := ""
	for i, e := range es {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}
