package review

import (
	"context"
	"fmt"
)

// ActionRejectionNote records that the rejection note of a rejected SEG
// was stored in the archive; the state does not change.
const ActionRejectionNote Action = "rejection_note"

// reject stores the rejection note of the SEG out.Review rejects and
// records it with a trail entry. Without an archive it does nothing.
func (w *Workflow) reject(ctx context.Context, out *Outcome) error {
	if w.archive == nil {
		return nil
	}
	r := out.Review
	if err := w.storeNote(ctx, r, out.Entry.Comment); err != nil {
		return fmt.Errorf("storing rejection note of %s: %w", r.SOPInstanceUID, err)
	}

	_, noteUID := NoteUIDs(r.SOPInstanceUID)
	next := r.clone()
	next.RejectionNoteUID, next.Version, next.UpdatedAt = noteUID, r.Version+1, w.now()
	e := &Entry{SOPInstanceUID: r.SOPInstanceUID, Seq: next.Version, Actor: SystemActor,
		Role: SystemRole, At: next.UpdatedAt, Action: ActionRejectionNote, From: r.State,
		To: r.State, ReportID: r.ReportID, Related: noteUID,
		Comment: "Key Object Selection (113001, DCM, \"Rejected for Quality Reasons\") stored"}
	if err := w.store.Apply(ctx, Change{Review: next, Expect: r.Version, Entry: e}); err != nil {
		return fmt.Errorf("recording rejection note of %s: %w", r.SOPInstanceUID, err)
	}
	out.Review = next
	return nil
}

// storeNote builds the rejection note of r and stores it in the archive.
func (w *Workflow) storeNote(ctx context.Context, r *Review, reason string) error {
	p, err := w.archive.Attributes(ctx, r.StudyInstanceUID, r.SeriesInstanceUID,
		r.SOPInstanceUID)
	if err != nil {
		return fmt.Errorf("reading patient and study attributes: %w", err)
	}
	b, err := BuildRejectionKOS(RejectionNote{StudyInstanceUID: r.StudyInstanceUID,
		SeriesInstanceUID: r.SeriesInstanceUID, SOPClassUID: r.SOPClassUID,
		SOPInstanceUID: r.SOPInstanceUID, Patient: p, Reason: reason, Time: w.now()})
	if err != nil {
		return err
	}
	return w.archive.Store(ctx, r.StudyInstanceUID, b)
}
