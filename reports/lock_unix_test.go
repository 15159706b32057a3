//go:build unix

package reports

import (
	"bufio"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHolderIn(t *testing.T) {
	const locks = `1: POSIX  ADVISORY  WRITE 700 08:01:42 0 EOF
2: FLOCK  ADVISORY  WRITE 4242 fd:01:1234567 0 EOF
2: -> FLOCK  ADVISORY  WRITE 4343 fd:01:1234567 0 EOF
3: FLOCK  ADVISORY  WRITE 5151 08:01:42 0 EOF
`
	dev := uint64(0xfd<<8 | 0x01)
	assert.Equal(t, 4242, holderIn(bufio.NewScanner(strings.NewReader(locks)), dev, 1234567))
	assert.Equal(t, 5151, holderIn(bufio.NewScanner(strings.NewReader(locks)), 8<<8|1, 42))
	assert.Zero(t, holderIn(bufio.NewScanner(strings.NewReader(locks)), dev, 7))
}
