package importer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRunOf400WarnsOnceAfter100SameRejections(t *testing.T) {
	rej := func(reason string) *outcome {
		return &outcome{Result: Result{Status: StatusRejected, HTTPStatus: 400, Reason: reason}}
	}
	tests := []struct {
		name  string
		rows  func() []*outcome
		warns int // index of the row that warns, -1 for none
	}{
		{"100 the same", func() []*outcome {
			var out []*outcome
			for range 150 {
				out = append(out, rej("HTTP 400: bad event_time"))
			}
			return out
		}, 99},
		{"99 then another reason", func() []*outcome {
			var out []*outcome
			for range 99 {
				out = append(out, rej("a"))
			}
			return append(out, rej("b"))
		}, -1},
		{"an accepted row ends the run", func() []*outcome {
			var out []*outcome
			for i := range 160 {
				if i == 50 {
					out = append(out, &outcome{Result: Result{Status: StatusAccepted}})
					continue
				}
				out = append(out, rej("a"))
			}
			return out
		}, 150},
		{"other rejections do not end it", func() []*outcome {
			var out []*outcome
			for i := range 101 {
				if i == 50 {
					out = append(out, &outcome{Result: Result{Status: StatusRejected, HTTPStatus: 422, Reason: "x"}})
					continue
				}
				out = append(out, rej("a"))
			}
			return out
		}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r runOf400
			got := -1
			for i, o := range tt.rows() {
				if w := r.observe(o); w != "" {
					assert.Equal(t, -1, got, "warned twice")
					assert.True(t, strings.Contains(w, "likely a mapping bug"), w)
					got = i
				}
			}
			assert.Equal(t, tt.warns, got)
		})
	}
}
