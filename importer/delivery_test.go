package importer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"afimport/importer/s2s"
	"afimport/importer/s2stest"
	"afimport/mappings"
	"afimport/readers"
)

// dedupMapper builds a valid S2S event per row, so the strict mock
// accepts it; the dedup id is the row's id.
type dedupMapper struct{}

func (dedupMapper) Columns() []string { return []string{"id", "ts"} }

func (dedupMapper) Apply(v []readers.Value) (*mappings.Payload, error) {
	id := v[0].S
	body := fmt.Sprintf(`{"user_id":{"customer_user_id":"c-%s"},"event_name":"af_purchase","customer_dedup_id":"%s"}`, id, id)
	return &mappings.Payload{Body: []byte(body), DedupID: id}, nil
}

func (m dedupMapper) Check(v []readers.Value) (*mappings.Payload, error) { return m.Apply(v) }

func (m dedupMapper) Timestamp(v []readers.Value) (int64, bool, error) { return timestampOf(m, v) }

// TestDeliveryAgainstMock drives the real HTTP client against the strict
// mock with scripted failures per dedup id, and checks every row ends
// accepted exactly once as the mock counts it, with true attempt counts.
func TestDeliveryAgainstMock(t *testing.T) {
	tests := []struct {
		name     string
		script   []s2stest.Step
		attempts int
		minSleep time.Duration
	}{
		{"429 with Retry-After then 202", []s2stest.Step{{Status: 429, RetryAfter: "2"}}, 2, 2 * time.Second},
		{"500 x3 then 202", []s2stest.Step{{Status: 500}, {Status: 500}, {Status: 500}}, 4, 0},
		{"connection dropped then 202", []s2stest.Step{{Drop: true}}, 2, 0},
		{"slow answer past the timeout then 202", []s2stest.Step{{Delay: 2 * time.Second}}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := s2stest.NewServer(s2stest.Config{Token: "tok", Script: tt.script})
			defer srv.Close()
			client, err := s2s.NewClient(s2s.Options{Endpoint: srv.URL(), AppID: "website-www.example.com",
				Kind: mappings.EndpointEvent, Token: "tok", Timeout: 300 * time.Millisecond, MaxInFlight: 8})
			require.NoError(t, err)
			defer client.CloseIdleConnections()

			clock := &fakeClock{}
			res := &memResults{}
			o := baseOpts(ids(40), client, res)
			o.Mapping = dedupMapper{}
			o.MaxInFlight = 8
			o.Clock = clock
			sum, err := Run(context.Background(), o)
			slept := clock.sleeps()
			require.NoError(t, err)
			require.EqualValues(t, 40, sum.Counts[StatusAccepted], "%v", sum.Reasons)
			for _, r := range res.all {
				assert.Equal(t, tt.attempts, r.Attempts, "row %d", r.Pos.Row)
				assert.Equal(t, 202, r.HTTPStatus)
				assert.NotEmpty(t, r.MessageID)
			}
			st := srv.Stats()
			assert.Len(t, st.DedupAccepted, 40)
			assert.Empty(t, st.Duplicates(), "accepted exactly once per dedup id")
			assert.EqualValues(t, 40, sum.Retries/int64(tt.attempts-1))
			for _, d := range slept {
				assert.GreaterOrEqual(t, d, tt.minSleep, "Retry-After honoured")
			}
		})
	}
}

// TestAbortAgainstMock: a wrong token stops the run after at most one
// request per worker, through the real client.
func TestAbortAgainstMock(t *testing.T) {
	srv := s2stest.NewServer(s2stest.Config{Token: "right"})
	defer srv.Close()
	client, err := s2s.NewClient(s2s.Options{Endpoint: srv.URL(), AppID: "a", Kind: mappings.EndpointEvent, Token: "wrong-s3cret", MaxInFlight: 4})
	require.NoError(t, err)
	res := &memResults{}
	o := baseOpts(ids(1000), client, res)
	o.Mapping = dedupMapper{}
	o.MaxInFlight = 4
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.NotEmpty(t, sum.Aborted)
	assert.LessOrEqual(t, srv.Stats().Requests, int64(4))
	assert.Len(t, res.byRow(), 1000)
	for _, r := range res.all {
		assert.NotContains(t, r.Reason, "wrong-s3cret")
	}
}
