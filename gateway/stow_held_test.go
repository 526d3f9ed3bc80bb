package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/qcgate/qcgate/dicomweb"
)

func TestHeldBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newHeldBudget(100)
		ctx := t.Context()
		if err := b.acquire(ctx, 60, time.Second); err != nil {
			t.Fatalf("acquire(60 of 100) = %v, want nil", err)
		}

		// 50 more waits until the 60 are given back, 500ms later.
		go func() {
			time.Sleep(500 * time.Millisecond)
			b.release(60)
		}()
		start := time.Now()
		if err := b.acquire(ctx, 50, time.Second); err != nil {
			t.Fatalf("acquire(50) while 60 of 100 are held = %v, want nil", err)
		}
		if d := time.Since(start); d != 500*time.Millisecond {
			t.Errorf("acquire(50) waited %v, want 500ms", d)
		}

		tests := []struct {
			name string
			n    int64
			// cancel ends the request's context this long after the
			// call; 0 never does.
			cancel   time.Duration
			wantErr  error
			wantWait time.Duration
		}{
			{"no room within the wait", 60, 0, errHeldBudget, time.Second},
			{"more than the whole budget", 101, 0, errHeldBudget, 0},
			{"room left", 50, 0, nil, 0},
			{"client gone while waiting", 1, 200 * time.Millisecond, context.Canceled,
				200 * time.Millisecond},
		}
		for _, tt := range tests {
			ctx, cancel := context.WithCancel(ctx)
			if tt.cancel > 0 {
				time.AfterFunc(tt.cancel, cancel)
			}
			start := time.Now()
			err := b.acquire(ctx, tt.n, time.Second)
			cancel()
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: acquire(%d) = %v, want %v", tt.name, tt.n, err, tt.wantErr)
			}
			if d := time.Since(start); d != tt.wantWait {
				t.Errorf("%s: acquire(%d) took %v, want %v", tt.name, tt.n, d, tt.wantWait)
			}
		}
		if got := b.inUse(); got != 100 {
			t.Errorf("inUse() = %d, want 100", got)
		}
	})
}

// zeros reads as n zero bytes and counts what was read.
type zeros struct {
	left, read int64
}

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.left))
	clear(p[:n])
	z.left -= int64(n)
	z.read += int64(n)
	return n, nil
}

// newHoldRequest returns a STOW-RS request state whose server has only
// what hold needs: a SEG limit, a held budget and no wait for it.
func newHoldRequest(limit, budget int64) *stowRequest {
	s := &Server{cfg: &Config{MaxSEGPartBytes: ByteSize(limit), MaxHeldBytes: ByteSize(budget)},
		held: newHeldBudget(budget), log: slog.New(slog.DiscardHandler),
		metrics: newMetrics(nil)}
	return &stowRequest{s: s, ctx: context.Background()}
}

func TestHold(t *testing.T) {
	const limit = 8 << 20
	liver := readTestFile(t, liverSEGFile)
	// The liver SEG's header up to its Pixel Data value: 4314 bytes, then
	// the 12-byte element header (dcmdump: Pixel Data OB at offset 4314).
	prefix := liver[:4314+12]
	random := make([]byte, 5<<19) // 2.5 MiB, more than one buffer
	rand.NewChaCha8([32]byte{1}).Read(random)

	tests := []struct {
		name string
		// end is the declared Pixel Data end (0: undefined length).
		end  int64
		rest io.Reader
		// budget is max_held_bytes; taken is held by others already.
		budget, taken int64
		wantErr       error
		wantState     partState
		wantFailure   int
		// wantRead is how much of rest is read; wantData the bytes held.
		wantRead int64
		wantData []byte
		// maxAlloc bounds the bytes allocated by hold.
		maxAlloc int64
	}{
		{name: "declared 1 GiB: refused before reading",
			end: 4326 + 1<<30, rest: &zeros{left: 1 << 30}, budget: limit,
			wantErr: errSEGTooLarge, wantState: partFailed,
			wantFailure: dicomweb.FailureOutOfResources, wantRead: 0, maxAlloc: 1 << 20},
		{name: "undefined length, 1 GiB: refused one byte past the limit",
			rest: &zeros{left: 1 << 30}, budget: limit, wantErr: errSEGTooLarge,
			wantState: partFailed, wantFailure: dicomweb.FailureOutOfResources,
			wantRead: limit - 4326 + 1, maxAlloc: limit + 1<<20},
		{name: "undefined length, exactly the limit: held",
			rest: &zeros{left: limit - 4326}, budget: limit, wantState: partHeld,
			wantRead: limit - 4326, wantData: append(bytes.Clone(prefix),
				make([]byte, limit-4326)...), maxAlloc: 2*limit + 1<<20},
		{name: "undefined length, 2.5 MiB: held whole",
			rest: bytes.NewReader(random), budget: limit, wantState: partHeld,
			wantRead: int64(len(random)), wantData: append(bytes.Clone(prefix), random...),
			maxAlloc: 2*int64(len(random)) + 2<<20},
		{name: "declared 2.5 MiB: held in one buffer",
			end: 4326 + int64(len(random)), rest: bytes.NewReader(random), budget: limit,
			wantState: partHeld, wantRead: int64(len(random)),
			wantData: append(bytes.Clone(prefix), random...),
			maxAlloc: int64(len(random)) + 1<<20},
		{name: "no room under max_held_bytes: A700, part skipped",
			end: 4326 + int64(len(random)), rest: bytes.NewReader(random), budget: limit,
			taken: limit - 1<<20, wantState: partFailed,
			wantFailure: dicomweb.FailureOutOfResources, wantRead: int64(len(random)),
			maxAlloc: 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr := newHoldRequest(limit, tt.budget)
			sr.s.held.acquire(t.Context(), tt.taken, 0)
			p := &stowPart{index: 1, header: partHeader{PixelDataEnd: tt.end}}
			rest := &countedReader{r: tt.rest}

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := sr.hold(p, prefix, rest)
			runtime.ReadMemStats(&after)

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("hold() = %v, want %v", err, tt.wantErr)
			}
			if p.state != tt.wantState || p.failure != tt.wantFailure {
				t.Errorf("hold() part state %d, failure %#x, want %d, %#x", p.state,
					p.failure, tt.wantState, tt.wantFailure)
			}
			if rest.n != tt.wantRead {
				t.Errorf("hold() read %d bytes of the part's rest, want %d", rest.n, tt.wantRead)
			}
			if !bytes.Equal(p.data, tt.wantData) {
				t.Errorf("hold() holds %d bytes, want %d (or different bytes)",
					len(p.data), len(tt.wantData))
			}
			if got := int64(after.TotalAlloc - before.TotalAlloc); got > tt.maxAlloc {
				t.Errorf("hold() allocated %d bytes, want at most %d", got, tt.maxAlloc)
			}
			// What is held is reserved, and given back by release.
			if got, want := sr.s.held.inUse(), tt.taken+int64(cap(p.data)); got < want {
				t.Errorf("held budget in use = %d, want at least %d", got, want)
			}
			sr.release(p)
			if got := sr.s.held.inUse(); got != tt.taken {
				t.Errorf("held budget in use after release = %d, want %d", got, tt.taken)
			}
		})
	}
}

// countedReader counts the bytes read through it.
type countedReader struct {
	r io.Reader
	n int64
}

func (c *countedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestSTOWHeldBudget(t *testing.T) {
	up := newFakeOrthanc(t)
	// Each SEG fits the limit alone (102630 and 101892 bytes); the two
	// together do not fit the budget.
	g := newTestGateway(t, up.dicomWebURL(), func(c *Config) {
		c.MaxSEGPartBytes, c.MaxHeldBytes, c.HeldWait = 150*KiB, 150*KiB, 0
	})
	body := multipartBody(dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
		dicomPart(t, liverCTFile3), dicomPart(t, liverSEGFile), dicomPart(t, warnSEGFile))

	res, b := g.stow(t, "/dicom-web/studies", stowContentType, body, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("STOW of two SEGs over max_held_bytes = %d, want 202; body %.300s",
			res.StatusCode, b)
	}
	a := parseAnswer(t, b)
	want := sorted(liverCT1, liverCT2, liverCT3, liverSEGSOP)
	if got := a.stored; !slices.Equal(got, want) {
		t.Errorf("stored = %v, want %v", got, want)
	}
	if got := a.failed[warnSEGSOP]; got != dicomweb.FailureOutOfResources || len(a.failed) != 1 {
		t.Errorf("failed = %v, want only %s with %#x", a.failed, warnSEGSOP,
			dicomweb.FailureOutOfResources)
	}
	checkWarnings(t, res.Header.Values("Warning"), []string{"max_held_bytes"})
	if n := g.srv.held.inUse(); n != 0 {
		t.Errorf("held budget in use after the request = %d, want 0", n)
	}

	// The budget was given back: the refused SEG with its sources now
	// passes.
	res, b = g.stow(t, "/dicom-web/studies", stowContentType,
		multipartBody(dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
			dicomPart(t, liverCTFile3), dicomPart(t, warnSEGFile)), nil)
	if res.StatusCode != http.StatusOK {
		t.Errorf("STOW of the refused SEG again = %d, want 200; body %.300s",
			res.StatusCode, b)
	}
}
