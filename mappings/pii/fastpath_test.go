package pii

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// refNormalizeText and refCheckLocal are the general paths, without the
// ASCII shortcuts; the shortcuts must agree with them on every input.
func refNormalizeText(s string) string {
	s = strings.TrimFunc(s, isTrimmed)
	s = norm.NFC.String(s)
	s = strings.ToLower(s)
	return norm.NFC.String(s)
}

func refCheckLocal(local string) error {
	if local == "" {
		return fmt.Errorf("%w: empty local part", ErrNotEmail)
	}
	if len(local) > maxLocalLen {
		return fmt.Errorf("%w: local part longer than %d octets", ErrNotEmail, maxLocalLen)
	}
	for _, r := range local {
		switch {
		case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
			return fmt.Errorf("%w: white space in local part", ErrNotEmail)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return fmt.Errorf("%w: control character in local part", ErrNotEmail)
		case strings.ContainsRune(`(),:;<>[]\"`, r):
			return fmt.Errorf("%w: character not allowed in an unquoted local part", ErrNotEmail)
		}
	}
	return nil
}

func FuzzASCIIShortcuts(f *testing.F) {
	for _, s := range []string{" John_Smith@Gmail.COM\t", "a b", "a\x00b", "a\x7f", "a(b", "\x85a", "Élodie ", "\v\fX\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := normalizeText(s), refNormalizeText(s); got != want {
			t.Fatalf("normalizeText(%q) = %q, want %q", s, got, want)
		}
		got, want := fmt.Sprint(checkLocal(s)), fmt.Sprint(refCheckLocal(s))
		if got != want {
			t.Fatalf("checkLocal(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestASCIIShortcuts(t *testing.T) {
	for c := range 128 {
		s := fmt.Sprintf(" a%cb ", c)
		if got, want := fmt.Sprint(checkLocal(s[1:4])), fmt.Sprint(refCheckLocal(s[1:4])); got != want {
			t.Errorf("checkLocal(%q) = %s, want %s", s[1:4], got, want)
		}
		if got, want := normalizeText(s), refNormalizeText(s); got != want {
			t.Errorf("normalizeText(%q) = %q, want %q", s, got, want)
		}
	}
}
