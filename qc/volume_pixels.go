package qc

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// FileSourcePixels reads source pixel values from DICOM files, for "qcgate
// check". It reads native (uncompressed) Pixel Data of 8 or 16 bits, signed
// or not, one sample per pixel, and applies Rescale Slope and Intercept
// (PS3.3 C.11.1.1.2). Compressed source images give an error, and the
// rule that asked notes that it did not run. It is safe for concurrent
// use.
type FileSourcePixels struct {
	mu    sync.Mutex
	paths map[string]string
}

// NewFileSourcePixels returns a reader that knows no file yet.
func NewFileSourcePixels() *FileSourcePixels {
	return &FileSourcePixels{paths: make(map[string]string)}
}

// Add records the file holding the instance with that SOP Instance UID.
func (p *FileSourcePixels) Add(sopInstanceUID, path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paths[sopInstanceUID] = path
}

// FrameValues implements [SourcePixels]. The whole file is read at each
// call: the rules ask for each source frame once.
func (p *FileSourcePixels) FrameValues(_ context.Context, inst *SourceInstance,
	frame int) (values []float64, err error) {
	defer func() {
		// The dicom package panics on some malformed files; see
		// [ReadSourceInstance].
		if rec := recover(); rec != nil {
			values, err = nil, fmt.Errorf("reading source %s: %w: parser: %v",
				inst.SOPInstanceUID, ErrInvalidSource, rec)
		}
	}()
	p.mu.Lock()
	path, ok := p.paths[inst.SOPInstanceUID]
	p.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("source %s: no file: %w", inst.SOPInstanceUID, ErrInvalidSource)
	}
	ds, err := dicom.ParseFile(path, nil)
	if err != nil {
		return nil, fmt.Errorf("reading source %s: %w", path, err)
	}
	return frameValuesOf(&ds, frame)
}

// frameValuesOf returns 1-based frame of a data set's native Pixel Data
// after the Modality LUT.
func frameValuesOf(ds *dicom.Dataset, frame int) ([]float64, error) {
	slope, intercept := 1.0, 0.0
	if v, ok := dsFloat(ds, tag.RescaleSlope); ok {
		slope = v
	}
	if v, ok := dsFloat(ds, tag.RescaleIntercept); ok {
		intercept = v
	}
	signed := false
	if v, ok := dsFloat(ds, tag.PixelRepresentation); ok {
		signed = v == 1
	}

	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		return nil, fmt.Errorf("no Pixel Data: %w", ErrInvalidSource)
	}
	info := dicom.MustGetPixelDataInfo(e.Value)
	if info.IsEncapsulated || info.ParseErr != nil {
		return nil, fmt.Errorf("source pixels are compressed or unreadable: %w",
			ErrInvalidSource)
	}
	if frame < 1 || frame > len(info.Frames) {
		return nil, fmt.Errorf("frame %d of %d: %w", frame, len(info.Frames), ErrInvalidSource)
	}
	nf := info.Frames[frame-1].NativeData
	if nf == nil || nf.SamplesPerPixel() != 1 {
		return nil, fmt.Errorf("frame %d: not one sample per pixel: %w", frame,
			ErrInvalidSource)
	}
	var out []float64
	switch raw := nf.RawDataSlice().(type) {
	case []uint16:
		out = make([]float64, len(raw))
		for i, v := range raw {
			x := float64(v)
			if signed {
				x = float64(int16(v))
			}
			out[i] = x*slope + intercept
		}
	case []uint8:
		out = make([]float64, len(raw))
		for i, v := range raw {
			x := float64(v)
			if signed {
				x = float64(int8(v))
			}
			out[i] = x*slope + intercept
		}
	default:
		return nil, fmt.Errorf("frame %d: %d-bit samples: %w", frame, nf.BitsPerSample(),
			ErrInvalidSource)
	}
	return out, nil
}

// dsFloat returns the first value of a numeric or decimal string element.
func dsFloat(ds *dicom.Dataset, t tag.Tag) (float64, bool) {
	e, err := ds.FindElementByTag(t)
	if err != nil {
		return 0, false
	}
	switch v := e.Value.GetValue().(type) {
	case []string:
		if len(v) == 0 {
			return 0, false
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v[0]), 64)
		return f, err == nil
	case []int:
		if len(v) == 0 {
			return 0, false
		}
		return float64(v[0]), true
	}
	return 0, false
}

var _ SourcePixels = (*FileSourcePixels)(nil)
