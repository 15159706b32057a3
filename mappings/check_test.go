package mappings

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/readers"
)

// TestCheckAgreesWithApply: Check is Apply without the body.
func TestCheckAgreesWithApply(t *testing.T) {
	base := map[string]readers.Value{
		"user_id": s("15667737"), "amount": readers.Number("49.99"), "currency": s("USD"),
		"renewed_at": s("2024-04-01T09:30:00-04:00"), "email": s("John_Smith@gmail.com"), "first_name": s("Élodie"),
		"last_name": s("Smith"), "ip": s("35.244.183.10"), "ua": s("Mozilla/5.0"),
		"plan": s("annual"), "term": readers.Number("12"), "qty": readers.Number("1"), "coupon": readers.Null(),
		"channel": s("crm"), "renewal_id": s(`rn-"0001"`),
	}
	bad := map[string]readers.Value{"email": s("not-an-email"), "first_name": s(" "), "amount": s("x"), "user_id": readers.Null()}
	for _, dedup := range []string{"", "dedup: none\n"} {
		for _, src := range []string{renewalsMapping, renewalsMapping[:len(renewalsMapping)-len("  customer_dedup_id:        { column: renewal_id }\n")]} {
			m := mustParse(t, dedup+src)
			only := func(vals map[string]readers.Value) []readers.Value {
				out := map[string]readers.Value{}
				for _, c := range m.Columns() {
					out[c] = vals[c]
				}
				return row(t, m, out)
			}
			rows := [][]readers.Value{only(base)}
			for col, v := range bad {
				vals := map[string]readers.Value{}
				for k, x := range base {
					vals[k] = x
				}
				vals[col] = v
				rows = append(rows, only(vals))
			}
			for i, vals := range rows {
				want, werr := m.Apply(vals)
				got, gerr := m.Check(vals)
				if werr != nil {
					assert.Equal(t, werr, gerr, "row %d", i)
					assert.Nil(t, got)
					continue
				}
				require.NoError(t, gerr, "row %d", i)
				assert.Nil(t, got.Body)
				want.Body = nil
				assert.Equal(t, want, got, "row %d", i)
			}
		}
	}
}
