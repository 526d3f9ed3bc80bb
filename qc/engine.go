package qc

import "context"

// Engine runs the rules of one profile. It is safe for concurrent use.
type Engine struct {
	profile *Profile
}

// NewEngine returns an engine for p; a nil p means [DefaultProfile].
func NewEngine(p *Profile) *Engine {
	if p == nil {
		p = DefaultProfile()
	}
	return &Engine{profile: p}
}

// Profile returns the engine's profile.
func (e *Engine) Profile() *Profile { return e.profile }

// Check runs every enabled rule on seg against sources and returns the
// report. Sources may be empty; missing sources are findings, not errors.
func (e *Engine) Check(ctx context.Context, seg *Segmentation, sources *SourceSet) *Report {
	panic("qc: Engine.Check not implemented yet")
}
