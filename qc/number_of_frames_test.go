package qc

import (
	"bytes"
	"context"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// withNumberOfFrames returns the Explicit VR Little Endian SEG data with
// the value of its Number of Frames (0028,0008) element replaced by v.
func withNumberOfFrames(t *testing.T, data []byte, v string) []byte {
	t.Helper()
	k := bytes.Index(data, []byte("\x28\x00\x08\x00IS"))
	if k < 0 {
		t.Fatal("no Number of Frames element")
	}
	old := int(binary.LittleEndian.Uint16(data[k+6:]))
	if len(v)%2 == 1 {
		v += " "
	}
	out := append([]byte{}, data[:k+6]...)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(v)))
	out = append(out, v...)
	return append(out, data[k+8+old:]...)
}

// TestNumberOfFramesInvalid checks that a Number of Frames that is empty,
// not an integer, out of range or not positive counts no frame and is named
// as found by structure.type1 (PS3.3 C.7.6.6: Type 1, at least 1), instead
// of being read as one frame.
func TestNumberOfFramesInvalid(t *testing.T) {
	data, sources := loadCase(t, "dcmqi-ct-liver-binary")
	tests := []struct {
		value       string
		wantFrames  int
		wantMessage string // of the structure.type1 finding; "" for none
	}{
		{"3", 3, ""},
		{"0", 0, `must be a positive integer: found "0"`},
		{"-1", -1, `must be a positive integer: found "-1"`},
		{"2147483648", 0, `must be a positive integer: found "2147483648"`},
		{"abc", 0, `must be a positive integer: found "abc"`},
		{"", 0, "is Type 1 in a SEG: found it empty"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.value), func(t *testing.T) {
			b := withNumberOfFrames(t, data, tt.value)
			seg, err := ParseSegmentation(b)
			if err != nil {
				t.Fatalf("ParseSegmentation: %v", err)
			}
			if seg.NumberOfFrames != tt.wantFrames {
				t.Errorf("NumberOfFrames = %d, want %d", seg.NumberOfFrames, tt.wantFrames)
			}
			rep := NewEngine(nil).Check(context.Background(), seg, sources)
			var got []string
			for _, f := range rep.Findings {
				if f.Rule == "structure.type1" && strings.HasPrefix(f.Message, "NumberOfFrames") {
					got = append(got, f.Message)
				}
			}
			switch {
			case tt.wantMessage == "" && len(got) != 0:
				t.Errorf("structure.type1 findings = %q, want none", got)
			case tt.wantMessage != "" && (len(got) != 1 || !strings.Contains(got[0], tt.wantMessage)):
				t.Errorf("structure.type1 findings = %q, want one containing %q",
					got, tt.wantMessage)
			}
			if wantRejected := tt.wantMessage != ""; wantRejected !=
				(rep.Decision == DecisionRejected) {
				t.Errorf("decision = %s, want rejected: %v", rep.Decision, wantRejected)
			}
		})
	}
}
