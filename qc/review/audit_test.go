package review

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDraw checks draws against values computed independently with
// Python's hmac and hashlib: (int.from_bytes(HMAC-SHA256(seed, uid)[:8],
// "big") >> 11) / 2**53, and the seed ID as sha256(seed)[:16 hex digits].
func TestDraw(t *testing.T) {
	tests := []struct {
		seed, uid string
		share     float64
		want      AuditDraw
	}{
		{"s3cret", "1.2.3.4.5", 0.19, AuditDraw{SeedID: "1ec1c26b50d5d3c5", Share: 0.19,
			Value: 0.1863184266859862, Sampled: true}},
		{"s3cret", "1.2.3.4.6", 0.19, AuditDraw{SeedID: "1ec1c26b50d5d3c5", Share: 0.19,
			Value: 0.2013106750903424, Sampled: false}},
		{"other", "1.2.3.4.5", 0.5, AuditDraw{SeedID: "d9298a10d1b07358", Share: 0.5,
			Value: 0.5567778240314745, Sampled: false}},
	}
	for _, tc := range tests {
		t.Run(tc.seed+" "+tc.uid, func(t *testing.T) {
			c := AuditConfig{Share: tc.share, Seed: tc.seed}
			got := c.Draw(tc.uid)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Draw(%s) (-want +got):\n%s", tc.uid, diff)
			}
			if again := c.Draw(tc.uid); again != got {
				t.Errorf("Draw(%s) again = %+v, want the same draw", tc.uid, again)
			}
		})
	}
}

// TestDrawShare counts the sample of 2000 UIDs at share 0.3; Python's
// count with the same formula is 608.
func TestDrawShare(t *testing.T) {
	c := AuditConfig{Share: 0.3, Seed: "s3cret"}
	n := 0
	for i := range 2000 {
		if c.Draw(fmt.Sprintf("1.2.826.0.1.%d", i)).Sampled {
			n++
		}
	}
	if n != 608 {
		t.Errorf("%d of 2000 sampled at share 0.3, want 608", n)
	}
}

func TestAuditConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		c    AuditConfig
		want error
	}{
		{"zero", AuditConfig{}, nil},
		{"all without seed", AuditConfig{Share: 1}, nil},
		{"share with seed", AuditConfig{Share: 0.1, Seed: "x"}, nil},
		{"share without seed", AuditConfig{Share: 0.1}, ErrInvalidConfig},
		{"negative", AuditConfig{Share: -0.1, Seed: "x"}, ErrInvalidConfig},
		{"over 1", AuditConfig{Share: 1.5, Seed: "x"}, ErrInvalidConfig},
		{"negative window", AuditConfig{RecallWindow: -1}, ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(); !errors.Is(err, tc.want) {
				t.Errorf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}
