// Package benchdata is the renewals export of the throughput targets,
// shared by the end-to-end bench command (importer/s2stest/bench) and the
// in-package pipeline benchmark, so that both measure the same work: 15
// columns, email and first/last name hashed, a dedup id per row, and (the
// bench command's default) the phone, E.164-hashed with its region from the
// country column.
package benchdata

import (
	"maps"
	"slices"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

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

// Phone returns the phone and country columns of row i: distinct numbers
// (no two rows alike below 20 million rows) from every region the phone
// library has an example mobile or fixed-line number for, round robin,
// two rows in three in national form and one in international form, as a
// customer table holds them. The numbers are the library's examples with
// their last five digits replaced by the row's, so a few are not numbers in
// use (on_invalid: omit drops those).
func Phone(i int) (phone, country string) {
	ts := phoneTemplates()
	t := ts[i%len(ts)]
	form := t.national
	if i%3 == 2 {
		form = t.international
	}
	n := i / len(ts)
	b := []byte(form)
	for j, k := len(b)-1, 0; j >= 0 && k < 5; j-- {
		if b[j] >= '0' && b[j] <= '9' {
			b[j] = byte('0' + n%10)
			n /= 10
			k++
		}
	}
	return string(b), t.region
}

type phoneTemplate struct{ region, national, international string }

var phoneTemplates = sync.OnceValue(func() []phoneTemplate {
	var ts []phoneTemplate
	for _, region := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions())) {
		num := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE)
		if num == nil {
			num = phonenumbers.GetExampleNumberForType(region, phonenumbers.FIXED_LINE)
		}
		if num == nil || len(phonenumbers.GetNationalSignificantNumber(num)) < 7 {
			continue
		}
		ts = append(ts, phoneTemplate{region,
			phonenumbers.Format(num, phonenumbers.NATIONAL), phonenumbers.Format(num, phonenumbers.INTERNATIONAL)})
	}
	return ts
})
