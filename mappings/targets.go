package mappings

import "strings"

// targetKind is what a mapped target is; it decides the coercion and the
// validation rule of the field.
type targetKind uint8

const (
	tCUID targetKind = iota
	tAFID
	tEventName
	tEventRevenue
	tCurrency
	tEventValue     // the whole event_value object
	tEventValuePath // one member of event_value, any depth
	tEventURL
	tTimestamp
	tIP
	tUserAgent
	tReferrer
	tDedup
	tEmailHashed
	tPhoneHashed
	tPhoneE164Hashed
	tFirstNameHashed
	tLastNameHashed
)

// targetNames are the targets written as a whole name (event_value.<path>
// is recognized by its prefix).
var targetNames = map[string]targetKind{
	"user_id.customer_user_id": tCUID,
	"user_id.appsflyer_id":     tAFID,
	"event_name":               tEventName,
	"event_revenue":            tEventRevenue,
	"event_revenue_currency":   tCurrency,
	"event_value":              tEventValue,
	"event_url":                tEventURL,
	"timestamp":                tTimestamp,
	"ip":                       tIP,
	"user_agent":               tUserAgent,
	"http_referrer":            tReferrer,
	"customer_dedup_id":        tDedup,
	"email_hashed":             tEmailHashed,
	"phone_number_hashed":      tPhoneHashed,
	"phone_number_e164_hashed": tPhoneE164Hashed,
	"first_name_hashed":        tFirstNameHashed,
	"last_name_hashed":         tLastNameHashed,
}

// Body member order: the spec's request-body tables, one per endpoint. JSON
// does not care, but a fixed order keeps bodies (and derived dedup ids)
// byte-for-byte reproducible.
var (
	eventOrder = []string{"user_id", "event_name", "event_revenue", "event_revenue_currency", "event_value",
		"event_url", "timestamp", "ip", "user_agent", "http_referrer", "customer_dedup_id",
		"email_hashed", "phone_number_hashed", "phone_number_e164_hashed", "first_name_hashed", "last_name_hashed"}
	visitOrder = []string{"user_id", "event_url", "timestamp", "ip", "user_agent", "http_referrer", "event_value",
		"customer_dedup_id",
		"email_hashed", "phone_number_hashed", "phone_number_e164_hashed", "first_name_hashed", "last_name_hashed"}
)

func (k targetKind) hashed() bool { return k >= tEmailHashed }

// eventOnly reports targets the visit endpoint does not accept.
func (k targetKind) eventOnly() bool {
	return k == tEventName || k == tEventRevenue || k == tCurrency
}

// classifyTarget returns the target's kind and, for event_value.<path>, its
// path segments below event_value.
func classifyTarget(name string) (targetKind, []string, bool) {
	if k, ok := targetNames[name]; ok {
		return k, nil, true
	}
	rest, ok := strings.CutPrefix(name, "event_value.")
	if !ok {
		return 0, nil, false
	}
	segs := strings.Split(rest, ".")
	for _, s := range segs {
		if s == "" {
			return 0, nil, false
		}
	}
	return tEventValuePath, segs, true
}

// valueType is the declared (or default) `type:` of a field.
type valueType uint8

const (
	typeAuto valueType = iota // keep the source kind (event_value.<path> only)
	typeString
	typeNumber
	typeInteger
	typeBoolean
	typeJSON
)

var typeNames = map[string]valueType{
	"string": typeString, "number": typeNumber, "integer": typeInteger, "boolean": typeBoolean, "json": typeJSON,
}

// defaultType is the type a target gets without `type:`.
func (k targetKind) defaultType() valueType {
	switch k {
	case tEventRevenue:
		return typeNumber
	case tEventValue:
		return typeJSON
	case tEventValuePath, tTimestamp:
		return typeAuto
	}
	return typeString
}

// typeFits reports whether a declared type is allowed on the target.
func (k targetKind) typeFits(t valueType) bool {
	switch k {
	case tEventValuePath:
		return true
	case tEventRevenue:
		return t == typeNumber || t == typeInteger
	case tEventValue:
		return t == typeJSON
	case tTimestamp:
		return false
	}
	return t == typeString
}

// hashKind is the `hash:` normalization of a *_hashed field.
type hashKind uint8

const (
	hashNone hashKind = iota // the value must already be a SHA-256 hex digest
	hashEmail
	hashPhone
	hashPhoneE164
	hashName
	hashSHA256
)

var hashNames = map[string]hashKind{
	"email": hashEmail, "phone": hashPhone, "phone_e164": hashPhoneE164, "name": hashName, "sha256": hashSHA256,
}

// hashFits reports whether the hash kind suits the target.
func (k targetKind) hashFits(h hashKind) bool {
	if h == hashSHA256 {
		return k.hashed()
	}
	switch k {
	case tEmailHashed:
		return h == hashEmail
	case tPhoneHashed:
		return h == hashPhone
	case tPhoneE164Hashed:
		return h == hashPhoneE164
	case tFirstNameHashed, tLastNameHashed:
		return h == hashName
	}
	return false
}

// sourceKind is where a field's value comes from.
type sourceKind uint8

const (
	srcColumn sourceKind = iota
	srcConst
	srcTemplate
)

// tmplPart is a literal run of a template or, when col >= 0, a placeholder.
type tmplPart struct {
	lit     string
	col     int
	colName string
}

// node is one member of the body's emission plan: a leaf holding a field's
// slot, or an object with members.
type node struct {
	name     string
	key      []byte // `"name":`, escaped once at compile time
	slot     int    // field slot for a leaf; -1 for objects and an unmapped dedup marker
	children []*node
	object   bool
	dedup    bool // the customer_dedup_id position in the top-level object
}
