package importer

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"afimport/readers"
)

// fnvRowHash is rowHash as hash/fnv computes it: reports written by
// earlier versions must keep resuming.
func fnvRowHash(vals []readers.Value) string {
	h := fnv.New64a()
	for _, v := range vals {
		h.Write([]byte{byte(v.Kind)})
		switch v.Kind {
		case readers.KindBool:
			if v.B {
				h.Write([]byte{1})
			} else {
				h.Write([]byte{0})
			}
		case readers.KindTime:
			h.Write(strconv.AppendInt(nil, v.T.UnixNano(), 10))
		default:
			h.Write([]byte(v.S))
		}
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func TestRowHashMatchesFNV(t *testing.T) {
	rows := [][]readers.Value{
		nil,
		{readers.Null()},
		{readers.String("a"), readers.Number("1.5"), readers.Bool(true), readers.Bool(false),
			readers.Time(time.Unix(1712000000, 5)), readers.JSON(`{"a":1}`), readers.String("é\xff")},
	}
	for _, r := range rows {
		assert.Equal(t, fnvRowHash(r), rowHash(r))
	}
	h := fnv.New64a()
	h.Write([]byte("row 3: bad"))
	assert.Equal(t, fmt.Sprintf("%016x", h.Sum64()), hashString("row 3: bad"))
}
