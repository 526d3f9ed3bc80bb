package auth

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

// TestPrincipalHas checks the role implications against a full table.
func TestPrincipalHas(t *testing.T) {
	// want[held] lists the roles a principal holding only held has.
	want := map[Role][]Role{
		RoleViewer:    {RoleViewer},
		RoleAnnotator: {RoleViewer, RoleAnnotator},
		RoleReviewer:  {RoleViewer, RoleReviewer},
		RoleSeniorQA:  {RoleViewer, RoleReviewer, RoleSeniorQA},
		RoleAuditor:   {RoleViewer, RoleAuditor},
		RoleAdmin: {
			RoleViewer, RoleAnnotator, RoleReviewer, RoleSeniorQA, RoleAuditor, RoleAdmin,
		},
	}
	for _, held := range Roles() {
		p := &Principal{Subject: "s", Roles: []Role{held}}
		for _, asked := range Roles() {
			t.Run(string(held)+"/"+string(asked), func(t *testing.T) {
				wantHas := false
				for _, r := range want[held] {
					wantHas = wantHas || r == asked
				}
				if got := p.Has(asked); got != wantHas {
					t.Errorf("Principal{%s}.Has(%s) = %v, want %v", held, asked, got, wantHas)
				}
			})
		}
	}

	var nilP *Principal
	if nilP.Has(RoleViewer) {
		t.Errorf("nil Principal.Has(viewer) = true, want false")
	}
	unknown := &Principal{Roles: []Role{"root"}}
	if unknown.Has("root") {
		t.Errorf("Principal{root}.Has(root) = true, want false for an undefined role")
	}
	both := &Principal{Roles: []Role{RoleAnnotator, RoleReviewer}}
	if !both.Has(RoleAnnotator) || !both.Has(RoleReviewer) || both.Has(RoleSeniorQA) {
		t.Errorf("Principal{annotator, reviewer} roles wrong")
	}
}

// TestPrincipalRequire checks the 403 error of a missing role.
func TestPrincipalRequire(t *testing.T) {
	annotator := &Principal{Subject: "a", Roles: []Role{RoleAnnotator}}
	if err := annotator.Require(RoleViewer); err != nil {
		t.Errorf("Require(viewer) = %v, want nil", err)
	}
	err := annotator.Require(RoleReviewer)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("Require(reviewer) = %v, want %v", err, ErrForbidden)
	}
	if errors.Is(err, ErrInvalidToken) {
		t.Errorf("Require(reviewer) matches ErrInvalidToken")
	}
	ae, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("Require(reviewer) error %T is not *Error", err)
	}
	if ae.StatusCode() != http.StatusForbidden {
		t.Errorf("StatusCode() = %d, want 403", ae.StatusCode())
	}
	wantHdr := `Bearer realm="qcgate", error="insufficient_scope", ` +
		`error_description="the reviewer role is required"`
	if got := ae.WWWAuthenticate(); got != wantHdr {
		t.Errorf("WWWAuthenticate() = %q, want %q", got, wantHdr)
	}
}

// TestParseRole checks role names.
func TestParseRole(t *testing.T) {
	for _, r := range Roles() {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, nil", r, got, err, r)
		}
	}
	for _, s := range []string{"", "Viewer", "senior-qa", "root"} {
		if _, err := ParseRole(s); !errors.Is(err, ErrUnknownRole) {
			t.Errorf("ParseRole(%q) = %v, want %v", s, err, ErrUnknownRole)
		}
	}
}

// TestSubjectHash checks the pseudonym against SHA-256 values computed
// outside Go (sha256sum of the bare subject).
func TestSubjectHash(t *testing.T) {
	tests := []struct{ sub, want string }{
		{"alice", "2bd806c97f0e00af"},
		{"", "e3b0c44298fc1c14"},
	}
	for _, tt := range tests {
		if got := SubjectHash(tt.sub); got != tt.want {
			t.Errorf("SubjectHash(%q) = %q, want %q", tt.sub, got, tt.want)
		}
	}
}

// TestContext checks that a principal travels in a context.
func TestContext(t *testing.T) {
	p := &Principal{Subject: "s"}
	if got := FromContext(NewContext(context.Background(), p)); got != p {
		t.Errorf("FromContext(NewContext(p)) = %p, want %p", got, p)
	}
	if got := FromContext(context.Background()); got != nil {
		t.Errorf("FromContext(empty) = %v, want nil", got)
	}
}
