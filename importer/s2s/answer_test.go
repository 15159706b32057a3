package s2s

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

var answerCases = []string{
	``, `{}`, ` { } `, `{"status":"ok","message":"accepted","messageId":"mock-1-2"}`,
	`{"MessageID":"a","message_id":"b"}`, `{"messageId":"","message_id":"b"}`, `{"error":"bad","message":""}`,
	`{"messageId":"a","messageId":"b"}`, `{"messageId":"a\"b"}`, `{"messageId":1}`, `{"messageId":null}`,
	`{"messageId":"a"} x`, `{"messageId":"a",}`, `{"messageId":"\xff"}`, `{"méssage":"x"}`, `{"message":"é"}`,
	`ok`, `{"a":"b"`, `{"a" : "b" , "ERROR" : "c"}`, "{\"message\":\"a\tb\"}", `[]`, `{"a":{"b":"c"}}`,
}

func TestParseAnswerFastPathAgrees(t *testing.T) {
	for _, c := range answerCases {
		id, msg := parseAnswer([]byte(c))
		wid, wmsg := parseAnswerSlow([]byte(c))
		assert.Equal(t, wid, id, "id of %q", c)
		assert.Equal(t, wmsg, msg, "message of %q", c)
	}
}

func FuzzParseAnswer(f *testing.F) {
	for _, c := range answerCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, msg := parseAnswer(raw)
		wid, wmsg := parseAnswerSlow(raw)
		if id != wid || msg != wmsg {
			t.Fatalf("%q: got %q %q, want %q %q", raw, id, msg, wid, wmsg)
		}
	})
}
