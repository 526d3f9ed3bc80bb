package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Role is a role a token grants, named in the token's roles claim exactly
// as the constants' values are spelled.
type Role string

// The roles of qcgate. A role implies others, as [Role.Implies] tells:
//
//	viewer     QIDO-RS, WADO-RS, WADO-URI, reading QC reports
//	annotator  viewer, plus STOW-RS
//	reviewer   viewer, plus review actions on QC reports
//	senior_qa  reviewer, plus final decisions that overrule a review
//	auditor    viewer, plus audit records
//	admin      every role
//
// Annotators do not review, and reviewers do not upload: a token that needs
// both carries both roles.
const (
	RoleViewer    Role = "viewer"
	RoleAnnotator Role = "annotator"
	RoleReviewer  Role = "reviewer"
	RoleSeniorQA  Role = "senior_qa"
	RoleAuditor   Role = "auditor"
	RoleAdmin     Role = "admin"
)

// implied lists, for each role, the roles it grants besides itself.
var implied = map[Role][]Role{
	RoleViewer:    nil,
	RoleAnnotator: {RoleViewer},
	RoleReviewer:  {RoleViewer},
	RoleSeniorQA:  {RoleReviewer, RoleViewer},
	RoleAuditor:   {RoleViewer},
	RoleAdmin: {
		RoleViewer, RoleAnnotator, RoleReviewer, RoleSeniorQA, RoleAuditor,
	},
}

// Roles returns every defined role, from the least to the most powerful.
func Roles() []Role {
	return []Role{
		RoleViewer, RoleAnnotator, RoleReviewer, RoleSeniorQA, RoleAuditor, RoleAdmin,
	}
}

// ParseRole returns the role named s. An unknown name gives an error
// wrapping [ErrUnknownRole].
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if _, ok := implied[r]; !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownRole, s)
	}
	return r, nil
}

// Implies reports whether holding r grants other.
func (r Role) Implies(other Role) bool {
	return r == other && r.known() || slices.Contains(implied[r], other)
}

func (r Role) known() bool {
	_, ok := implied[r]
	return ok
}

// Principal is the authenticated caller of a request.
type Principal struct {
	// Subject is the token's sub claim: the user or client. Log it only
	// through [SubjectHash].
	Subject string
	// Roles are the known roles the token grants, sorted and without
	// duplicates. Unknown role names in the token are left out.
	Roles []Role
}

// Has reports whether p holds role, directly or through a role implying
// it. A nil principal holds no role.
func (p *Principal) Has(role Role) bool {
	if p == nil {
		return false
	}
	for _, r := range p.Roles {
		if r.Implies(role) {
			return true
		}
	}
	return false
}

// Require returns nil when p holds role, else an [*Error] with the
// insufficient_scope code wrapping [ErrForbidden], answered with 403.
func (p *Principal) Require(role Role) error {
	if p.Has(role) {
		return nil
	}
	return newError(CodeInsufficientScope, "the "+string(role)+" role is required",
		ErrForbidden, fmt.Errorf("missing role %s", role))
}

// SubjectHash returns a short pseudonym of a token subject for access logs:
// the first 16 hexadecimal digits of its SHA-256. It is the same for the same
// subject across restarts and gateways, so log lines can be grouped by user.
// It is a pseudonym, not an anonymisation: whoever has a list of candidate
// subjects can hash them and find the match.
func SubjectHash(sub string) string {
	sum := sha256.Sum256([]byte(sub))
	return hex.EncodeToString(sum[:8])
}

// principalKey is the context key of the principal.
type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored in ctx by [NewContext], or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// rolesFromClaim reads the roles claim found at a dotted path in the token's
// claims: a JSON array of strings, or a string of names separated by spaces
// (the form of the OAuth scope claim). A missing or null claim gives no
// roles; a claim of another type is an error.
func rolesFromClaim(claims map[string]any, path string) ([]Role, error) {
	v, ok := lookupPath(claims, path)
	if !ok {
		return nil, nil
	}
	var names []string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		names = strings.Fields(v)
	case []any:
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("claim %s: an item is a %T, not a string", path, item)
			}
			names = append(names, s)
		}
	default:
		return nil, fmt.Errorf("claim %s: a %T, not a list of strings", path, v)
	}
	var roles []Role
	for _, name := range names {
		if r := Role(name); r.known() {
			roles = append(roles, r)
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles), nil
}

// lookupPath follows a dotted path such as realm_access.roles through
// nested JSON objects.
func lookupPath(claims map[string]any, path string) (any, bool) {
	var cur any = claims
	for name := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[name]; !ok {
			return nil, false
		}
	}
	return cur, true
}
