package harness

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// minUIDTail is the room a rewritten UID needs for its new last component:
// a dot and at least six digits.
const minUIDTail = 7

// Copies makes distinct copies of one DICOM file by rewriting its SOP
// Instance UID in place, in the file meta (0002,0003) and the dataset
// (0008,0018), keeping every length, so no element length or group length
// changes. The copies differ only in that UID.
type Copies struct {
	template []byte
	uid      string
	prefix   string
	digits   int
}

// NewCopies prepares copies of file, whose SOP Instance UID is uid. The
// UID must appear at least twice (file meta and dataset).
func NewCopies(file []byte, uid string) (*Copies, error) {
	if n := bytes.Count(file, []byte(uid)); n < 2 {
		return nil, fmt.Errorf("preparing copies: UID %s found %d times, want 2 or more", uid, n)
	}

	// Keep the UID up to a component boundary that leaves room for a new
	// last component of the same total length.
	cut := strings.LastIndexByte(uid, '.')
	for cut > 0 && len(uid)-cut < minUIDTail {
		cut = strings.LastIndexByte(uid[:cut], '.')
	}
	if cut <= 0 {
		return nil, errors.New("preparing copies: UID too short to rewrite")
	}
	return &Copies{template: file, uid: uid, prefix: uid[:cut+1], digits: len(uid) - cut - 1}, nil
}

// UID is the SOP Instance UID of copy i: the original's root and a new last
// component of the same length, starting with 9 so it has no leading zero.
func (c *Copies) UID(i int) string {
	tail := fmt.Sprintf("9%0*d", c.digits-1, i)
	if len(tail) != c.digits {
		panic("harness: copy " + strconv.Itoa(i) + " is beyond the UIDs a Copies can make")
	}
	return c.prefix + tail
}

// Copy returns copy i. i must be below the number of distinct UIDs the
// new last component can hold (at least 100 000); Copy panics beyond.
func (c *Copies) Copy(i int) []byte {
	return bytes.ReplaceAll(c.template, []byte(c.uid), []byte(c.UID(i)))
}

// Size is the length in bytes of every copy.
func (c *Copies) Size() int { return len(c.template) }
