package importer

import (
	"context"

	"afimport/importer/s2s"
)

// Response is what one attempt to send a payload produced (see s2s).
type Response = s2s.Response

// Sender sends one payload body to an app and reports what came back. It
// must be safe for concurrent use and must not retry: the importer owns
// retries. An empty appID means the sender's default app.
type Sender interface {
	Send(ctx context.Context, appID string, body []byte) Response
}

// SenderFunc adapts a function to Sender, like http.HandlerFunc.
type SenderFunc func(ctx context.Context, appID string, body []byte) Response

// Send calls f(ctx, appID, body).
func (f SenderFunc) Send(ctx context.Context, appID string, body []byte) Response {
	return f(ctx, appID, body)
}

var _ Sender = (*s2s.Client)(nil)
