package sqldb

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct {
		name  string
		d     Dialect
		query string
		want  string
	}{
		{"sqlite keeps ?", SQLite, "a = ? AND b IN (?, ?)", "a = ? AND b IN (?, ?)"},
		{"postgres numbers", Postgres, "a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{"postgres none", Postgres, "SELECT 1", "SELECT 1"},
		{"postgres ten", Postgres, "(" + Placeholders(10) + ")",
			"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.Rebind(tt.query); got != tt.want {
				t.Errorf("Rebind(%q) = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	for n, want := range []string{"", "?", "?, ?", "?, ?, ?"} {
		if got := Placeholders(n); got != want {
			t.Errorf("Placeholders(%d) = %q, want %q", n, got, want)
		}
	}
}
