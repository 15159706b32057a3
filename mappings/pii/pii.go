// Package pii normalizes personal data the way AppsFlyer's S2S API expects
// before hashing, and hashes it with SHA-256. PLACEHOLDER: replaced by the real implementation.
package pii

import "errors"

var (
	ErrNotEmail = errors.New("not an email address")
	ErrNotPhone = errors.New("not a valid phone number")
	ErrRegion   = errors.New("unknown region")
)

// Email trims and lowercases an email address, refusing what is not one.
func Email(raw string) (string, error) { return "", errors.New("not implemented") }

// Phone returns the number as digits with country code, no '+' and no leading zeros.
func Phone(raw, region string) (string, error) { return "", errors.New("not implemented") }

// PhoneE164 returns the number in E.164 ("+16505551212").
func PhoneE164(raw, region string) (string, error) { return "", errors.New("not implemented") }

// Name trims and lowercases a first or last name.
func Name(raw string) (string, error) { return "", errors.New("not implemented") }

// SHA256Hex is the lowercase hex SHA-256 of s.
func SHA256Hex(s string) string { return "" }

// AppendSHA256Hex appends the lowercase hex SHA-256 of s to dst.
func AppendSHA256Hex(dst []byte, s string) []byte { return dst }

// IsSHA256Hex reports whether s is exactly 64 hex digits (any case).
func IsSHA256Hex(s string) bool { return false }
