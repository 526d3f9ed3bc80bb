package qc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestFileSourcePixelsMalformed checks that a source file the dicom package
// cannot parse gives an error wrapping [ErrInvalidSource], never a panic.
func TestFileSourcePixelsMalformed(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{
			// A defined-length sequence holding an element that is not an
			// Item (PS3.5 7.5.1).
			"sequence without items",
			part10File("1.2.840.10008.1.2.1", []byte{
				0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 10, 0, 0, 0,
				0x08, 0x00, 0x60, 0x00, 'C', 'S', 2, 0, 'C', 'T',
			}),
		},
		{
			"unknown transfer syntax",
			part10File("1.2.3.4", []byte{0x08, 0x00, 0x60, 0x00, 'C', 'S', 2, 0, 'C', 'T'}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "source.dcm")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			px := NewFileSourcePixels()
			px.Add("1.2.3", path)
			vals, err := px.FrameValues(context.Background(),
				&SourceInstance{SOPInstanceUID: "1.2.3"}, 1)
			if !errors.Is(err, ErrInvalidSource) || vals != nil {
				t.Errorf("FrameValues() = %v, %v; want nil, %v", vals, err, ErrInvalidSource)
			}
		})
	}
}
