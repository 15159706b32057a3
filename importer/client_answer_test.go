package importer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// slowAnswer is parseAnswer without its fast path.
func slowAnswer(raw []byte) (id, msg string) {
	var a struct {
		MessageID  string `json:"messageId"`
		MessageID2 string `json:"message_id"`
		Message    string `json:"message"`
		Error      string `json:"error"`
	}
	if len(raw) > 0 && json.Unmarshal(raw, &a) == nil {
		id = a.MessageID
		if id == "" {
			id = a.MessageID2
		}
		msg = a.Message
		if msg == "" {
			msg = a.Error
		}
		return id, msg
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return "", strings.ToValidUTF8(s, "?")
}

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
		wid, wmsg := slowAnswer([]byte(c))
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
		wid, wmsg := slowAnswer(raw)
		if id != wid || msg != wmsg {
			t.Fatalf("%q: got %q %q, want %q %q", raw, id, msg, wid, wmsg)
		}
	})
}
