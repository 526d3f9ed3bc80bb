package harness

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qcgate/qcgate/auth"
)

// tokenTTL is the lifetime of the tokens the harness mints: longer than
// any test.
const tokenTTL = time.Hour

// DefaultRoles are the roles of the token of a gateway's [Gateway.Client]
// and [Serve.Client]: annotator, which stores and reads (QIDO-RS, WADO-RS,
// reports).
var DefaultRoles = []string{string(auth.RoleAnnotator)}

// Tokens mints bearer tokens that a gateway started by the harness
// accepts: HS256 with a random secret kept in a file of the test's
// temporary folder, the way small sites run qcgate.
type Tokens struct {
	// SecretFile is the gateway's auth.hs256_secret_file.
	SecretFile string

	secret []byte
}

// newTokens writes a random HS256 secret of 64 bytes into dir.
func newTokens(t testing.TB, dir string) *Tokens {
	t.Helper()
	tk := &Tokens{SecretFile: filepath.Join(dir, "hs256-secret"), secret: []byte(randomHex(32))}
	if err := os.WriteFile(tk.SecretFile, tk.secret, 0o600); err != nil {
		t.Fatalf("writing token secret: %v", err)
	}
	return tk
}

// Token mints a token for subject with roles (names of [auth.Role]).
func (tk *Tokens) Token(t testing.TB, subject string, roles ...string) string {
	t.Helper()
	tok, err := auth.Mint(tk.secret, subject, roles, tokenTTL, "", "")
	if err != nil {
		t.Fatalf("minting a token: %v", err)
	}
	return tok
}

// client returns a client of base that sends a token with roles, or none
// when tk is nil (authentication off).
func (tk *Tokens) client(t testing.TB, base string, roles ...string) *Client {
	t.Helper()
	c := &Client{BaseURL: base}
	if tk != nil {
		c.Header = map[string][]string{
			"Authorization": {"Bearer " + tk.Token(t, "qcgate-test", roles...)},
		}
	}
	return c
}
