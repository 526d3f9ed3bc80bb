package qc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ProfileSet holds the profiles a gateway serves several projects with, and
// chooses one per SEG. It is read-only once loaded and safe for concurrent
// use.
//
// The choice, in order ([ProfileSet.Select]):
//  1. a project named by the request path /projects/{name}/dicom-web: the
//     profile whose Selection.Projects lists the name, or whose Name is it;
//  2. the SEG's Clinical Trial Protocol ID (0012,0020): the first profile,
//     by name, whose Selection.ClinicalTrialProtocolIDs lists it;
//  3. the default profile.
type ProfileSet struct {
	def      *Profile
	profiles []*Profile // sorted by name
	projects map[string]*Profile
}

// ProfileSetOptions say where a [ProfileSet] comes from.
type ProfileSetOptions struct {
	// Dir is a folder whose *.yaml and *.yml files are profiles; empty
	// means none.
	Dir string
	// Files are more profile files.
	Files []string
	// Default is the name of the default profile among them; empty means
	// [DefaultProfile], the built-in one.
	Default string
}

// LoadProfileSet loads and checks every profile of opts. Problems of every
// file are reported at once; two profiles with one name, two profiles
// claiming one project or protocol ID, and a Default that names no profile
// are errors wrapping [ErrInvalidProfile].
func LoadProfileSet(opts ProfileSetOptions) (*ProfileSet, error) {
	files := slices.Clone(opts.Files)
	if opts.Dir != "" {
		entries, err := os.ReadDir(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("reading profile folder: %w", err)
		}
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if e.Type().IsRegular() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(opts.Dir, e.Name()))
			}
		}
	}

	var (
		profiles []*Profile
		errs     []error
	)
	for _, f := range files {
		p, err := LoadProfile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Base(f), err))
			continue
		}
		profiles = append(profiles, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return NewProfileSet(profiles, opts.Default)
}

// NewProfileSet builds a set from loaded profiles; def names the default
// profile, or is empty for [DefaultProfile].
func NewProfileSet(profiles []*Profile, def string) (*ProfileSet, error) {
	s := &ProfileSet{
		profiles: slices.Clone(profiles),
		projects: make(map[string]*Profile),
	}
	slices.SortFunc(s.profiles, func(a, b *Profile) int { return strings.Compare(a.Name, b.Name) })

	var errs []error
	names := make(map[string]bool)
	protocols := make(map[string]string)
	for _, p := range s.profiles {
		if names[p.Name] {
			errs = append(errs, fmt.Errorf("profile name %q used twice", p.Name))
		}
		names[p.Name] = true
		for _, proj := range append([]string{p.Name}, p.Selection.Projects...) {
			if other, ok := s.projects[proj]; ok && other != p {
				errs = append(errs, fmt.Errorf("project %q claimed by profiles %q and %q",
					proj, other.Name, p.Name))
			}
			s.projects[proj] = p
		}
		for _, id := range p.Selection.ClinicalTrialProtocolIDs {
			if other, ok := protocols[id]; ok {
				errs = append(errs, fmt.Errorf("protocol ID %q claimed by profiles %q and %q",
					id, other, p.Name))
			}
			protocols[id] = p.Name
		}
	}
	switch {
	case def == "":
		s.def = DefaultProfile()
	case s.projects[def] != nil && s.projects[def].Name == def:
		s.def = s.projects[def]
	default:
		errs = append(errs, fmt.Errorf("default profile %q: no profile has that name", def))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProfile, errors.Join(errs...))
	}
	return s, nil
}

// Default returns the default profile.
func (s *ProfileSet) Default() *Profile { return s.def }

// Profiles returns the loaded profiles, sorted by name, without the
// built-in default.
func (s *ProfileSet) Profiles() []*Profile { return slices.Clone(s.profiles) }

// Project returns the profile of a project of the path prefix
// /projects/{name}/dicom-web, and whether there is one.
func (s *ProfileSet) Project(name string) (*Profile, bool) {
	p, ok := s.projects[name]
	return p, ok
}

// Select returns the profile for seg, sent under project (empty when the
// request did not name one); see [ProfileSet] for the order. It returns nil
// only when project is not empty and names no profile: the gateway should
// then refuse the request (404) rather than check with another project's
// guideline. seg may be nil when only the project is known.
func (s *ProfileSet) Select(seg *Segmentation, project string) *Profile {
	if project != "" {
		return s.projects[project]
	}
	if seg != nil && seg.ClinicalTrialProtocolID != "" {
		id := strings.TrimSpace(seg.ClinicalTrialProtocolID)
		for _, p := range s.profiles {
			if slices.Contains(p.Selection.ClinicalTrialProtocolIDs, id) {
				return p
			}
		}
	}
	return s.def
}
