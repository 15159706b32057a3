package mappings

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestISOMinorUnits pins ISO 4217's minor units, including those where
// CLDR's display digits (golang.org/x/text/currency) differ.
func TestISOMinorUnits(t *testing.T) {
	want := map[string]int{
		"USD": 2, "EUR": 2, "JPY": 0, "KRW": 0, "CLP": 0, "KWD": 3, "BHD": 3, "IDR": 2, "COP": 2, "IQD": 3,
		"RSD": 2, "ISK": 0, "UYI": 0, "CLF": 4, "UYW": 4, "VND": 0, "TND": 3, "OMR": 3, "HUF": 2, "MGA": 2,
	}
	for code, e := range want {
		got, ok := ISOMinorUnit(code)
		require.True(t, ok, code)
		assert.Equal(t, e, got, code)
	}
	for _, code := range []string{"XAU", "XDR", "XXX", "XTS", "ABC", "usd"} {
		_, ok := ISOMinorUnit(code)
		assert.False(t, ok, code)
	}
	assert.Greater(t, len(isoExponents), 150)
}

func TestShiftMinor(t *testing.T) {
	tests := []struct {
		in   string
		e    int
		want string
		ok   bool
	}{
		{"1900", 2, "19.00", true},
		{"1900", 0, "1900", true},
		{"-1999", 3, "-1.999", true},
		{"5", 2, "0.05", true},
		{"5", 4, "0.0005", true},
		{"+12", 1, "1.2", true},
		{"000", 2, "0.00", true},
		{"-0", 0, "0", true},
		{"0012", 0, "12", true},
		{"", 2, "", false},
		{"-", 2, "", false},
		{"1.5", 2, "", false},
		{"1e3", 2, "", false},
		{"1 000", 2, "", false},
		{"١٢", 2, "", false},
	}
	for _, tc := range tests {
		got, ok := shiftMinor(tc.in, tc.e)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, "%q e=%d", tc.in, tc.e)
	}
}
