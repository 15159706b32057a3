package mappings

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlaceholders(t *testing.T) {
	starter := "app_id: TODO_app_id\nendpoint: event\ntimezone: TODO_timezone\nfields:\n" +
		"  user_id.customer_user_id: { column: TODO_user_id_column }\n" +
		"  event_name: { value: TODO_event_name }\n"
	m, err := Parse([]byte(starter), "starter.yaml")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"app_id is still the placeholder TODO_app_id",
		"timezone is still the placeholder TODO_timezone: set the app's timezone in AppsFlyer (it sets each row's deadline)",
		`column "TODO_user_id_column" is a placeholder: name the real column`,
		`event_name is still the placeholder "TODO_event_name"`,
	}, m.Placeholders())

	done, err := Load("../testdata/renewals.yaml")
	require.NoError(t, err)
	assert.Empty(t, done.Placeholders())
}
