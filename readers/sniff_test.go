package readers

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSniffDelimiter(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, file, content string
		want                rune
	}{
		{"comma", "a.csv", "id,email,amount\n1,a@b.c,3\n2,d@e.f,4\n", ','},
		{"semicolon", "b.csv", "invoice_id;customer_id;amount\n1;c1;3,50\n2;c2;4,10\n", ';'},
		{"semicolon, decimal commas everywhere", "c.csv", "a;b\n1,5;2,5\n3,5;4,5\n", ';'},
		{"tab in a .csv", "d.csv", "a\tb\tc\n1\t2\t3\n", '\t'},
		{"pipe", "e.csv", "a|b|c\n1|2|3\n", '|'},
		{"quoted semicolons do not count", "f.csv", "name,note\n\"x\",\"a;b;c;d\"\n\"y\",\"e;f;g;h\"\n", ','},
		{"a broken row in ten", "j.csv", "a;b\n1;2\n1;2\n1\n1;2\n1;2\n1;2\n1;2\n1;2\n1;2\n1;2\n", ';'},
		{"ragged: cannot tell", "k.csv", "a;b\n1;2\n3\n4;5;6\n5;6\n", 0},
		{"one column: cannot tell", "g.csv", "id\n1\n2\n", 0},
		{"not CSV", "h.ndjson", "{\"a\":1}\n", 0},
		{"tsv keeps its tab", "i.tsv", "a;b\n1;2\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			require.NoError(t, os.WriteFile(p, []byte(tt.content), 0o644))
			assert.Equal(t, string(tt.want), string(SniffDelimiter(p, Options{})))
		})
	}
	assert.Zero(t, SniffDelimiter(StdinPath, Options{Format: FormatCSV}))
}

func TestMissingColumnNamesTheDelimiter(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"semicolon", "invoice_id;customer_id;amount\n1;c1;3\n", `use --delimiter ';'`},
		{"tab", "invoice_id\tcustomer_id\n1\tc1\n", `use --delimiter '\t'`},
		{"pipe", "invoice_id|customer_id\n1|c1\n", `use --delimiter '|'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".csv")
			require.NoError(t, os.WriteFile(p, []byte(tt.content), 0o644))
			_, err := Open(p, Options{Columns: []string{"customer_id", "invoice_id"}})
			var mc *MissingColumnError
			require.ErrorAs(t, err, &mc)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	// A real missing column in a well-delimited file gets no hint.
	p := filepath.Join(dir, "ok.csv")
	require.NoError(t, os.WriteFile(p, []byte("invoice_id,amount\n1,3\n"), 0o644))
	_, err := Open(p, Options{Columns: []string{"customer_id"}})
	var mc *MissingColumnError
	require.ErrorAs(t, err, &mc)
	assert.Empty(t, mc.Hint())
}
