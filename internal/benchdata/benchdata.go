// Package benchdata is the renewals export of the throughput targets,
// shared by the end-to-end bench command (importer/s2stest/bench) and the
// in-package pipeline benchmark, so that both measure the same work: 15
// columns, email and first/last name hashed, a dedup id per row.
package benchdata

// Columns are the export's columns, in file order.
var Columns = []string{"renewal_id", "user_id", "email", "phone", "country", "first_name", "last_name",
	"plan", "amount", "currency", "renewed_at", "ip", "user_agent", "page_url", "coupon"}

// Mapping is the mapping YAML; with phone, the phone is mapped too (E.164
// hashing, region from country).
func Mapping(phone bool) string {
	m := `app_id: website-www.example.com
endpoint: event
timezone: UTC
input_timezone: UTC
fields:
  user_id.customer_user_id: { column: user_id }
  event_name:               { value: af_subscription_renewal }
  event_revenue:            { column: amount, type: number }
  event_revenue_currency:   { column: currency }
  timestamp:                { column: renewed_at, format: rfc3339 }
  email_hashed:             { column: email, hash: email }
  first_name_hashed:        { column: first_name, hash: name }
  last_name_hashed:         { column: last_name, hash: name }
  ip:                       { column: ip }
  user_agent:               { column: user_agent }
  event_url:                { column: page_url }
  event_value.custom_parameters.plan:    { column: plan }
  event_value.custom_parameters.country: { column: country }
  event_value.coupon:       { column: coupon, optional: true }
  customer_dedup_id:        { column: renewal_id }
`
	if phone {
		m += "  phone_number_e164_hashed: { column: phone, hash: phone_e164, region_column: country, optional: true, on_invalid: omit }\n"
	}
	return m
}
