package review

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"time"
)

// AuditConfig sets the random quality audit.
type AuditConfig struct {
	// Share is the fraction of SEGs approved by senior QA that go to
	// audit, from 0 (none, the default) to 1 (all).
	Share float64
	// Seed makes the draw reproducible: the same seed and SOP Instance
	// UID always give the same draw. Treat it as a secret: whoever knows
	// it can tell in advance which SEGs will be audited. Empty is allowed
	// (a fixed, public draw) only when Share is 0 or 1.
	Seed string
	// RecallWindow, when positive, makes a failed audit (a return or
	// rejection in [StateAudit]) send back to peer review every SEG the
	// same peer reviewer or senior QA reviewer approved within that
	// duration before the failure. 0 recalls nothing.
	RecallWindow time.Duration
}

// Validate reports what is wrong with c.
func (c AuditConfig) Validate() error {
	if math.IsNaN(c.Share) || c.Share < 0 || c.Share > 1 {
		return fmt.Errorf("%w: audit share %g: must be from 0 to 1", ErrInvalidConfig, c.Share)
	}
	if c.Seed == "" && c.Share > 0 && c.Share < 1 {
		return fmt.Errorf("%w: audit share %g needs a seed", ErrInvalidConfig, c.Share)
	}
	if c.RecallWindow < 0 {
		return fmt.Errorf("%w: audit recall window %s: must be 0 or more", ErrInvalidConfig,
			c.RecallWindow)
	}
	return nil
}

// AuditDraw is the record of one audit draw, kept in the review and its
// trail so that anyone holding the seed can repeat it.
type AuditDraw struct {
	// SeedID names the seed without revealing it: the first 16
	// hexadecimal digits of SHA-256 of the seed.
	SeedID string `json:"seed_id"`
	// Share is the audit share in force.
	Share float64 `json:"share"`
	// Value is the draw, in [0, 1).
	Value float64 `json:"value"`
	// Sampled is Value < Share.
	Sampled bool `json:"sampled"`
}

// Draw makes the audit draw of a SEG: the first 53 bits of
// HMAC-SHA256(seed, SOP Instance UID), read big-endian, divided by 2^53,
// which is uniform in [0, 1) and the same wherever and however often it is
// computed. The SEG is sampled when the value is below the share.
func (c AuditConfig) Draw(sopInstanceUID string) AuditDraw {
	mac := hmac.New(sha256.New, []byte(c.Seed))
	mac.Write([]byte(sopInstanceUID))
	sum := mac.Sum(nil)
	v := float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
	id := sha256.Sum256([]byte(c.Seed))
	return AuditDraw{SeedID: hex.EncodeToString(id[:8]), Share: c.Share, Value: v,
		Sampled: v < c.Share}
}
