package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/qcgate/qcgate/dicomweb"
)

// heldBudget bounds the bytes of SEG parts held in memory at once by every
// STOW-RS request of the process (max_held_bytes). A part reserves the
// room of its buffer before allocating it and gives it back once the SEG
// is sent or dropped.
type heldBudget struct {
	mu    sync.Mutex
	total int64
	used  int64
	// freed is closed, and replaced, whenever room is given back, to wake
	// the parts waiting for it.
	freed chan struct{}
}

// errHeldBudget means a SEG part found no room under max_held_bytes in
// time.
var errHeldBudget = errors.New("no room for the SEG under max_held_bytes")

// newHeldBudget returns a budget of total bytes.
func newHeldBudget(total int64) *heldBudget {
	return &heldBudget{total: total, freed: make(chan struct{})}
}

// acquire reserves n bytes, waiting up to wait for others to give room
// back. It returns errHeldBudget when the wait ends, or at once when n is
// more than the whole budget, and the context's error when ctx ends first.
func (b *heldBudget) acquire(ctx context.Context, n int64, wait time.Duration) error {
	if n > b.total {
		return fmt.Errorf("%w: %d bytes asked of %d", errHeldBudget, n, b.total)
	}
	var timeout <-chan time.Time
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()

		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-freed:
		case <-timeout:
			return fmt.Errorf("%w: %d bytes not free within %s", errHeldBudget, n, wait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives n bytes back.
func (b *heldBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// inUse returns the bytes reserved now.
func (b *heldBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Sizes of a held SEG's buffers, in bytes.
const (
	// heldChunk is the size of the buffers a part whose size its header
	// does not tell is read into.
	heldChunk = 1 << 20
	// heldSlack is room past a declared Pixel Data end, for elements that
	// follow it such as Data Set Trailing Padding (FFFC,FFFC), so a part
	// that has them needs no second buffer.
	heldSlack = 4 << 10
)

// hold reads a SEG part into memory. The part is refused with 413 as soon
// as it is certain to be over max_seg_part_bytes: at once when its
// declared Pixel Data length says so, else when the bytes read pass the
// limit. A part with a declared length is read into one buffer of that
// size; any other into buffers of heldChunk, joined once it has ended
// within the limit, so a part over the limit costs the limit, never
// twice it. Each buffer's room is reserved under max_held_bytes before it
// is allocated (the join borrows the room of the buffers it replaces); a
// part that gets none in time fails alone with A700, and its bytes are
// skipped.
func (sr *stowRequest) hold(p *stowPart, prefix []byte, rest io.Reader) error {
	limit := int64(sr.s.cfg.MaxSEGPartBytes)
	if end := p.header.PixelDataEnd; end > limit || int64(len(prefix)) > limit {
		return sr.tooLarge(p, limit)
	}
	size := int64(heldChunk)
	if end := p.header.PixelDataEnd; end > 0 {
		size = end + heldSlack
	}
	size = min(max(size, int64(len(prefix))), limit)

	if err := sr.reserve(p, size); err != nil {
		return sr.noRoom(p, rest, err)
	}
	buf := make([]byte, len(prefix), size)
	copy(buf, prefix)
	total := int64(len(buf))
	var chunks [][]byte
	for {
		if len(buf) == cap(buf) {
			if total == limit {
				// Full at the limit: one more byte makes it too large.
				over, err := hasMore(rest)
				switch {
				case err != nil:
					sr.release(p)
					return err
				case over:
					sr.release(p)
					return sr.tooLarge(p, limit)
				}
				break
			}
			next := min(heldChunk, limit-total)
			if err := sr.reserve(p, next); err != nil {
				sr.release(p)
				return sr.noRoom(p, rest, err)
			}
			chunks = append(chunks, buf)
			buf = make([]byte, 0, next)
		}
		n, err := rest.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		total += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			sr.release(p)
			return err
		}
	}
	p.state, p.data = partHeld, join(append(chunks, buf), total)
	return nil
}

// join returns the bytes of chunks, total of them, in one slice: the one
// chunk itself, or a copy that lets each chunk go as it is copied.
func join(chunks [][]byte, total int64) []byte {
	if len(chunks) == 1 {
		return chunks[0]
	}
	out := make([]byte, 0, total)
	for i := range chunks {
		out = append(out, chunks[i]...)
		chunks[i] = nil
	}
	return out
}

// hasMore reports whether r has another byte.
func hasMore(r io.Reader) (bool, error) {
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		switch {
		case n > 0:
			return true, nil
		case errors.Is(err, io.EOF):
			return false, nil
		case err != nil:
			return false, err
		}
	}
}

// tooLarge marks p as over max_seg_part_bytes; the error ends the request
// with 413.
func (sr *stowRequest) tooLarge(p *stowPart, limit int64) error {
	p.state, p.failure = partFailed, dicomweb.FailureOutOfResources
	p.comment = fmt.Sprintf("part %d is a SEG larger than max_seg_part_bytes (%d bytes)",
		p.index, limit)
	return errSEGTooLarge
}

// noRoom fails p with A700 when the held budget had no room for it, and
// skips its bytes so the next part can be read. Any other error (the
// client gone) ends the request.
func (sr *stowRequest) noRoom(p *stowPart, rest io.Reader, err error) error {
	if !errors.Is(err, errHeldBudget) {
		return err
	}
	sr.refuse(p, dicomweb.FailureOutOfResources, fmt.Sprintf("part %d is a SEG the gateway "+
		"has no memory to check now (max_held_bytes): send it again later", p.index))
	sr.s.log.Warn("seg refused: held SEGs at max_held_bytes", "request_id", sr.id,
		"held_bytes", sr.s.held.inUse(), "max_held_bytes", int64(sr.s.cfg.MaxHeldBytes))
	return discard(rest)
}

// reserve reserves n more bytes of the held budget for p.
func (sr *stowRequest) reserve(p *stowPart, n int64) error {
	if err := sr.s.held.acquire(sr.ctx, n, sr.s.cfg.HeldWait); err != nil {
		return err
	}
	p.reserved += n
	return nil
}

// release gives back the held budget of p, once its bytes are dropped.
func (sr *stowRequest) release(p *stowPart) {
	sr.s.held.release(p.reserved)
	p.reserved = 0
}

// releaseAll gives back the held budget of every part of the request.
func (sr *stowRequest) releaseAll() {
	for _, p := range sr.parts {
		sr.release(p)
	}
}
