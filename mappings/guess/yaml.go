package guess

import (
	"strconv"
	"strings"
)

// scalar writes s as a YAML scalar that is safe inside a flow mapping
// ({ column: s }) and reads back as exactly s: plain when it is a simple
// name, double-quoted otherwise. strconv.Quote's escapes (\n, \t, \", \\,
// \xNN for control characters, \uNNNN, \UNNNNNNNN) are all YAML escapes with
// the same meaning for valid UTF-8, which the caller guarantees.
func scalar(s string) string {
	if plain(s) {
		return s
	}
	return strconv.Quote(s)
}

// plain reports whether s can be written as a plain scalar in flow context
// without being read as anything but that string.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := (c|0x20) >= 'a' && (c|0x20) <= 'z' || c == '_'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '.' && c != '-' {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n":
		return false
	}
	return true
}

// paramKey turns a column name into a key usable in a dotted
// event_value.custom_parameters.<key> target: anything but ASCII letters,
// digits and '_' becomes '_'.
func paramKey(col string) string {
	b := []byte(col)
	out := b[:0]
	for _, c := range b {
		if (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= '0' && c <= '9' || c == '_' {
			out = append(out, c)
		} else if c < 0x80 || c >= 0xc0 { // one '_' per rune
			out = append(out, '_')
		}
	}
	if strings.Trim(string(out), "_") == "" {
		return "param"
	}
	return string(out)
}
