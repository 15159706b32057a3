package benchdata

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"afimport/mappings/pii"
)

func TestPhone(t *testing.T) {
	seen := map[string]bool{}
	regions := map[string]bool{}
	valid := 0
	const n = 3000
	for i := range n {
		phone, country := Phone(i)
		assert.False(t, seen[phone+" "+country], "row %d repeats %q %s", i, phone, country)
		seen[phone+" "+country] = true
		regions[country] = true
		if _, err := pii.PhoneE164(phone, country); err == nil {
			valid++
		}
	}
	assert.GreaterOrEqual(t, len(regions), 200, "numbers from many regions")
	assert.Greater(t, valid, n*9/10, "mostly numbers in use, as a customer table holds")
}
