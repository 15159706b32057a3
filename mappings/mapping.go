package mappings

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	_ "time/tzdata" // zones must resolve on machines without a zoneinfo database

	"afimport/mappings/timefmt"
	"afimport/readers"
)

// PlaceholderTimezone is the timezone afimport init writes: the app's
// timezone cannot be guessed from a sample. A mapping holding it loads,
// with Timezone UTC and TimezoneName PlaceholderTimezone, so that check
// can name it; check --strict fails and import refuses it.
const PlaceholderTimezone = "TODO_timezone"

// PlaceholderAppID is the app id afimport init writes until a person sets
// the real one.
const PlaceholderAppID = "TODO_app_id"

// placeholderMark starts every placeholder init writes (columns, constants).
const placeholderMark = "TODO_"

// Placeholders lists what of afimport init's starter mapping is still a
// placeholder: the app id, the timezone, a TODO_ column or constant. check
// --strict fails and import refuses a mapping with any (one rule, used by
// both).
func (m *Mapping) Placeholders() []string {
	var out []string
	if m.AppID == PlaceholderAppID {
		out = append(out, fmt.Sprintf("app_id is still the placeholder %s", PlaceholderAppID))
	}
	if m.TimezoneName == PlaceholderTimezone {
		out = append(out, fmt.Sprintf("timezone is still the placeholder %s: set the app's timezone in AppsFlyer (it sets each row's deadline)", PlaceholderTimezone))
	}
	for _, col := range m.Columns() {
		if strings.HasPrefix(col, placeholderMark) {
			out = append(out, fmt.Sprintf("column %q is a placeholder: name the real column", col))
		}
	}
	consts := m.Constants()
	for _, target := range slices.Sorted(maps.Keys(consts)) {
		if v := consts[target]; strings.Contains(v, placeholderMark) {
			out = append(out, fmt.Sprintf("%s is still the placeholder %s", target, v))
		}
	}
	return out
}

// DedupMode says whether Apply derives a customer_dedup_id for rows whose
// mapping does not supply one.
type DedupMode string

const (
	// DedupAuto derives customer_dedup_id from the row's body (the default).
	DedupAuto DedupMode = "auto"
	// DedupNone sends customer_dedup_id only when the mapping maps it.
	DedupNone DedupMode = "none"
)

// Mapping is a loaded, checked and compiled mapping. It is immutable after
// Load/Parse and safe for concurrent use by any number of goroutines.
type Mapping struct {
	// Name is the file name the mapping was loaded from (or the name given
	// to Parse); it prefixes every ConfigError.
	Name string
	// AppID is the app id of every row, or "" when it comes from a column
	// (AppIDColumn); Payload.AppID is always set.
	AppID string
	// AppIDColumn names the column app_id: { column: C } reads, "" when
	// the app id is a constant.
	AppIDColumn   string
	Endpoint      Endpoint
	TimezoneName  string         // IANA name of the app's timezone
	Timezone      *time.Location // the app's timezone (default UTC)
	InputTimezone *time.Location // zone for timestamps without an offset (default UTC)
	Dedup         DedupMode

	columns []string // projected source columns, in first-use order
	fields  []*field // compiled field plans, in file order

	// root is the body's emission plan: the top-level object with its
	// members in the spec's table order for the endpoint.
	root *node
	// userID, required: slots checked per row after evaluation.
	cuidSlot, afidSlot int // -1 when not mapped
	requiredSlot       int // event_name (events) or event_url (visits); -1 when unmapped
	requiredName       string
	timestampSlot      int // -1 when not mapped
	dedupSlot          int // -1 when customer_dedup_id is not mapped
	currencySlot       int // -1 when event_revenue_currency is not mapped

	appID     *appIDRule     // nil: AppID is a constant
	skips     []skipRule     // skip:, in file order
	exponents map[string]int // currency_exponents: overrides of ISO 4217
	order     []*field       // evaluation order: fields, minor_units last

	// dedupPrefix is "app_id\nendpoint\n": the derived dedup id hashes it
	// followed by the body without customer_dedup_id.
	dedupPrefix []byte

	tests []*fixture // the mapping's tests:, run by RunTests

	fingerprint string // see Fingerprint

	pool sync.Pool // *state
}

// field is one compiled target: where its value comes from and how it is
// coerced, normalized and validated. Fields never change after compile.
type field struct {
	target   string     // as written in the mapping, e.g. "event_value.custom_parameters.plan"
	tk       targetKind // what the target is
	slot     int        // index of this field's output in state.slots
	src      sourceKind
	col      int    // column index for srcColumn
	colName  string // column name for errors ("" for constants)
	konst    readers.Value
	tmpl     []tmplPart
	tmplText string      // the template as written, for Explain
	extract  extractKind // srcColumn only: pull a value out of the column first
	cols     []int       // column: [a, b]: the first not missing (nil for one column)
	colNames []string    // their names

	vmap       map[string]readers.Value // map:, nil when none
	minorUnits bool                     // divide by 10^(the row currency's exponent)

	typ         valueType
	hash        hashKind
	region      string // default region, upper-case; "" when none
	regionCol   int    // column index of region_column; -1 when none
	optional    bool
	hasDefault  bool
	def         readers.Value
	omitInvalid bool
	ts          *timefmt.Parser

	// pre is the encoded JSON of a constant that does not depend on the row,
	// computed once at compile time; nil otherwise.
	pre []byte
	// preTS is the timestamp of a precomputed constant timestamp field.
	preTS int64
}

// Load reads and checks a mapping file. Its error is ConfigErrors when the
// file was read but is wrong, and the *os.PathError of the read otherwise.
func Load(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mapping: %w", err)
	}
	return Parse(data, path)
}

// Parse checks and compiles a mapping held in memory; name is used in error
// messages. Its error, when not nil, is always ConfigErrors holding every
// problem found, in file order.
func Parse(data []byte, name string) (*Mapping, error) {
	c := &compiler{name: name}
	m := c.compile(data)
	if len(c.errs) > 0 {
		return nil, c.sortedErrors()
	}
	return m, nil
}

// Columns lists every source column the mapping reads (column:, template
// placeholders and region_column), each once, in order of first use in the
// file. Apply expects its values aligned with this slice. The caller must
// not modify the returned slice.
func (m *Mapping) Columns() []string { return m.columns }

// Constants returns the JSON value each constant field (value:) sends,
// by target, as checked at load.
func (m *Mapping) Constants() map[string]string {
	out := map[string]string{}
	for _, f := range m.fields {
		if f.src == srcConst && f.pre != nil {
			out[f.target] = string(f.pre)
		}
	}
	return out
}

// RevenueWithoutCurrency reports whether a row can be sent with
// event_revenue but without event_revenue_currency: the currency is not
// mapped, or it may be left out (optional or on_invalid: omit, without a
// default). The spec allows it; it is almost always a mistake.
func (m *Mapping) RevenueWithoutCurrency() bool {
	var revenue, currency *field
	for _, f := range m.fields {
		switch f.tk {
		case tEventRevenue:
			revenue = f
		case tCurrency:
			currency = f
		}
	}
	switch {
	case revenue == nil:
		return false
	case currency == nil:
		return true
	}
	return (currency.optional && !currency.hasDefault) || currency.omitInvalid
}

// PerRowAppID reports whether each row names its app (app_id: { column }).
func (m *Mapping) PerRowAppID() bool { return m.appID != nil }

// AppIDs lists the app ids a per-row app_id maps to (its map's values,
// sorted, each once); nil when the app id is a constant or unmapped.
func (m *Mapping) AppIDs() []string {
	if m.appID == nil || m.appID.vmap == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, id := range m.appID.vmap {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Apply maps one row into a payload. values must be aligned with Columns.
// Apply returns a payload or an error, never both; the error is a
// *SkipError when an entry of skip: matches the row, and otherwise always
// a *FieldError naming the target, the column and the rule, never the
// value.
// Apply is safe for concurrent use.
func (m *Mapping) Apply(values []readers.Value) (*Payload, error) {
	if len(values) != len(m.columns) {
		return nil, &FieldError{Rule: "columns", Err: fmt.Errorf("row has %d values, the mapping reads %d columns", len(values), len(m.columns))}
	}
	st := m.getState()
	defer m.pool.Put(st)
	if se := m.skipped(values); se != nil {
		return nil, se
	}
	p, ferr := m.apply(values, st)
	if ferr != nil {
		return nil, ferr
	}
	return p, nil
}
