package importer

import "fmt"

// MinTokenLength is the shortest S2S API token afimport accepts. Real
// tokens are far longer; a shorter one is a placeholder typed while trying
// things (AF_S2S_TOKEN=x), and redacting every occurrence of it in
// messages would mangle them (website-www.e[REDACTED]ample.com) while
// protecting nothing.
const MinTokenLength = 16

// CheckToken refuses a token too short to be real, without quoting it.
func CheckToken(token string) error {
	if n := len(token); n < MinTokenLength {
		return fmt.Errorf("the API token is %d characters long, too short to be a real S2S token (at least %d); with --endpoint mock, leave it unset", n, MinTokenLength)
	}
	return nil
}
