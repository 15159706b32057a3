package pii

import "testing"

func BenchmarkEmailSHA256(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		e, err := Email("  John_Smith+News@Gmail.COM ")
		if err != nil {
			b.Fatal(err)
		}
		buf = AppendSHA256Hex(buf[:0], e)
	}
}

func BenchmarkPhoneE164(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PhoneE164("(650) 555-1212", "US"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendSHA256Hex(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendSHA256Hex(buf[:0], "john_smith@gmail.com")
	}
}
