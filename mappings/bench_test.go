package mappings

import (
	"testing"

	"afimport/readers"
)

// renewalsMapping is a 15-column renewals export with email and name
// hashing: the shape the throughput target (>=250k rows/s on 2 cores) is
// stated for.
const renewalsMapping = `app_id: website-www.example.com
endpoint: event
timezone: America/New_York
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
  user_agent:               { column: ua }
  event_url:                { template: "https://example.com/plans/{plan}" }
  event_value.custom_parameters.plan: { column: plan }
  event_value.custom_parameters.term: { column: term, type: integer }
  event_value.af_quantity:  { column: qty }
  event_value.coupon:       { column: coupon, optional: true }
  event_value.channel:      { column: channel }
  customer_dedup_id:        { column: renewal_id }
`

func BenchmarkApply(b *testing.B) {
	m := mustParse(b, renewalsMapping)
	vals := row(b, m, map[string]readers.Value{
		"user_id": s("15667737-366d-4994-ac8b-653fe6b2be4a"), "amount": readers.Number("49.99"), "currency": s("USD"),
		"renewed_at": s("2024-04-01T09:30:00-04:00"), "email": s("John_Smith@gmail.com"), "first_name": s("John"),
		"last_name": s("Smith"), "ip": s("35.244.183.10"), "ua": s("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"),
		"plan": s("annual"), "term": readers.Number("12"), "qty": readers.Number("1"), "coupon": readers.Null(),
		"channel": s("crm"), "renewal_id": s("rn-0001"),
	})
	if len(m.Columns()) != 15 {
		b.Fatalf("want a 15-column row, got %d", len(m.Columns()))
	}
	if _, err := m.Apply(vals); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Apply(vals); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkApplyBilling is testdata/billing.yaml on a paid row: skip
// rules, a per-row app id, a column list, a map and minor units.
func BenchmarkApplyBilling(b *testing.B) {
	m, err := Load("../testdata/billing.yaml")
	if err != nil {
		b.Fatal(err)
	}
	vals := row(b, m, map[string]readers.Value{
		"invoice_id": s("in_1001"), "customer_id": s(""), "user_id": s("u_17"), "site": s("www.example.com"),
		"kind": s("renewal"), "status": s("paid"), "amount_paid": s("1999"), "currency": s("USD"),
		"paid_at": s("2026-11-27T08:14:03Z"), "email": s("ana@example.com"), "is_test": s("false"),
	})
	if _, err := m.Apply(vals); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Apply(vals); err != nil {
				b.Fatal(err)
			}
		}
	})
}
