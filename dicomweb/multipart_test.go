package dicomweb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestParseMediaType(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		want    MediaType
		wantErr error
	}{
		{
			name:   "quoted type unquoted boundary",
			header: `multipart/related; type="application/dicom"; boundary=abc123`,
			want: MediaType{Type: "multipart/related", Boundary: "abc123",
				RelatedType: "application/dicom",
				Params:      map[string]string{"type": "application/dicom", "boundary": "abc123"}},
		},
		{
			name:   "odd case, spaces, quoted boundary",
			header: ` Multipart/Related ;  BOUNDARY="a b:c" ; Type=Application/DICOM `,
			want: MediaType{Type: "multipart/related", Boundary: "a b:c",
				RelatedType: "application/dicom",
				Params:      map[string]string{"type": "Application/DICOM", "boundary": "a b:c"}},
		},
		{
			name:   "no type parameter",
			header: "multipart/related; boundary=x",
			want: MediaType{Type: "multipart/related", Boundary: "x",
				Params: map[string]string{"boundary": "x"}},
		},
		{
			name:   "unquoted type with slash, escaped quote, boundary with equals",
			header: `multipart/related;type=application/dicom;boundary=----=_Part_0; x="a\"b;c"`,
			want: MediaType{Type: "multipart/related", Boundary: "----=_Part_0",
				RelatedType: "application/dicom",
				Params: map[string]string{"type": "application/dicom",
					"boundary": "----=_Part_0", "x": `a"b;c`}},
		},
		{name: "empty", header: "  ", wantErr: ErrNoContentType},
		{name: "unterminated quote", header: `multipart/related; boundary="abc`,
			wantErr: ErrUnsupportedMediaType},
		{name: "text after quoted value", header: `multipart/related; boundary="abc" x`,
			wantErr: ErrUnsupportedMediaType},
		{name: "not multipart", header: "application/dicom", wantErr: ErrNotMultipart},
		{name: "multipart mixed", header: "multipart/mixed; boundary=x", wantErr: ErrNotMultipart},
		{name: "no boundary", header: `multipart/related; type="application/dicom"`,
			wantErr: ErrNoBoundary},
		{name: "empty boundary", header: `multipart/related; boundary=""`, wantErr: ErrNoBoundary},
		{name: "garbage", header: "multipart/related; boundary", wantErr: ErrUnsupportedMediaType},
		{name: "no subtype", header: "multipart", wantErr: ErrUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMediaType(tt.header)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseMediaType(%q) error = %v, want %v", tt.header, err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseMediaType(%q) mismatch (-want +got):\n%s", tt.header, diff)
			}
		})
	}
}

func TestParseSTOWMediaType(t *testing.T) {
	tests := []struct {
		header  string
		wantErr error
	}{
		{`multipart/related; type="application/dicom"; boundary=b`, nil},
		{`multipart/related; type=application/dicom; boundary=b`, nil},
		{`multipart/related; type="APPLICATION/DICOM"; boundary="b"`, nil},
		{`multipart/related; boundary=b`, ErrUnsupportedMediaType},
		{`multipart/related; type="application/dicom+json"; boundary=b`, ErrUnsupportedMediaType},
		{`multipart/related; type="application/dicom"`, ErrNoBoundary},
		{`application/json`, ErrNotMultipart},
		{``, ErrNoContentType},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			_, err := ParseSTOWMediaType(tt.header)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseSTOWMediaType(%q) = %v, want %v", tt.header, err, tt.wantErr)
			}
		})
	}
}

// gotPart is what a test keeps of a part.
type gotPart struct {
	ContentType, Type, Body string
}

// readParts reads every part of body, its content through wrap when given,
// and returns them with the first error met.
func readParts(body io.Reader, boundary string, limits PartLimits) ([]gotPart, error) {
	pr := NewPartReader(body, boundary, limits)
	var parts []gotPart
	for {
		p, err := pr.Next()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return parts, err
		}
		b, err := io.ReadAll(p.Body)
		parts = append(parts, gotPart{p.ContentType, p.Type, string(b)})
		if err != nil {
			return parts, err
		}
	}
}

func TestPartReader(t *testing.T) {
	const dcm = "application/dicom"
	tests := []struct {
		name    string
		body    string
		limits  PartLimits
		want    []gotPart
		wantErr error
	}{
		{
			name: "two parts",
			body: "--b\r\nContent-Type: application/dicom\r\n\r\nAAA\r\n" +
				"--b\r\nContent-Type: application/dicom\r\n\r\nBB\r\n--b--\r\n",
			want: []gotPart{{dcm, dcm, "AAA"}, {dcm, dcm, "BB"}},
		},
		{
			name: "preamble and epilogue",
			body: "this is a preamble\r\n--b-not\r\n\r\n--b\r\nContent-Type: application/dicom\r\n" +
				"\r\nX\r\n--b--\r\nepilogue\r\n--b\r\nContent-Type: text/plain\r\n\r\nno\r\n",
			want: []gotPart{{dcm, dcm, "X"}},
		},
		{
			name: "bare LF line ends",
			body: "--b\nContent-Type: application/dicom\n\nA\r\nB\n--b\n\nC\n--b--\n",
			want: []gotPart{{dcm, dcm, "A\r\nB"}, {"", "", "C"}},
		},
		{
			name: "transport padding and no final line end",
			body: "--b  \t\r\nContent-Type: application/dicom\r\n\r\nA\r\n--b \r\n\r\nB\r\n--b--",
			want: []gotPart{{dcm, dcm, "A"}, {"", "", "B"}},
		},
		{
			name: "empty multipart",
			body: "--b--\r\n",
		},
		{
			name: "empty part content",
			body: "--b\r\nContent-Type: application/dicom\r\n\r\n\r\n--b\r\n\r\n--b--\r\n",
			want: []gotPart{{dcm, dcm, ""}, {"", "", ""}},
		},
		{
			name: "boundary-like content",
			body: "--b\r\n\r\n\r\n--bb\r\n--b-x\n--b\r\r\n-\r\n--\r\n--b\r\n\r\nZ\r\n--b--",
			// "\n--b" without CR is no delimiter in CRLF mode.
			want: []gotPart{{"", "", "\r\n--bb\r\n--b-x\n--b\r\r\n-\r\n--"}, {"", "", "Z"}},
		},
		{
			name: "nested multipart is visible",
			body: "--b\r\nContent-Type: multipart/related; type=application/dicom; boundary=c" +
				"\r\n\r\n--c--\r\n--b--",
			want: []gotPart{{"multipart/related; type=application/dicom; boundary=c",
				"multipart/related", "--c--"}},
		},
		{
			name: "header continuation and case",
			body: "--b\r\ncontent-type: Application/DICOM;\r\n transfer-syntax=1.2.840.10008.1.2.1\r\n" +
				"\r\nQ\r\n--b--",
			want: []gotPart{{"Application/DICOM; transfer-syntax=1.2.840.10008.1.2.1", dcm, "Q"}},
		},
		{name: "empty body", body: "", wantErr: ErrTruncated},
		{name: "no boundary at all", body: "hello\r\nworld\r\n", wantErr: ErrTruncated},
		{name: "cut after first boundary", body: "--b", wantErr: ErrTruncated},
		{name: "cut in header", body: "--b\r\nContent-Type: applic", wantErr: ErrTruncated},
		{name: "cut after header", body: "--b\r\nContent-Type: application/dicom\r\n",
			wantErr: ErrTruncated},
		{
			name:    "cut in content",
			body:    "--b\r\nContent-Type: application/dicom\r\n\r\nDICM and more",
			want:    []gotPart{{dcm, dcm, "DICM and more"}},
			wantErr: ErrTruncated,
		},
		{
			name:    "cut in content ending with CR LF",
			body:    "--b\r\n\r\nABC\r\n",
			want:    []gotPart{{"", "", "ABC\r\n"}},
			wantErr: ErrTruncated,
		},
		{
			name:    "cut at delimiter",
			body:    "--b\r\n\r\nABC\r\n--b",
			want:    []gotPart{{"", "", "ABC"}},
			wantErr: ErrTruncated,
		},
		{
			name:    "cut after delimiter line",
			body:    "--b\r\n\r\nABC\r\n--b\r\n",
			want:    []gotPart{{"", "", "ABC"}},
			wantErr: ErrTruncated,
		},
		{
			name:    "missing closing delimiter dash",
			body:    "--b\r\n\r\nABC\r\n--b-",
			want:    []gotPart{{"", "", "ABC\r\n--b-"}},
			wantErr: ErrTruncated,
		},
		{
			name:    "header too large",
			body:    "--b\r\nX-Long: " + strings.Repeat("a", 100) + "\r\n\r\nA\r\n--b--",
			limits:  PartLimits{MaxHeaderBytes: 64},
			wantErr: ErrHeaderTooLarge,
		},
		{
			name:    "header too large by default",
			body:    "--b\r\nX-Long: " + strings.Repeat("a", 17<<10) + "\r\n\r\nA\r\n--b--",
			wantErr: ErrHeaderTooLarge,
		},
		{
			name:    "too many parts",
			body:    "--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b\r\n\r\n3\r\n--b--",
			limits:  PartLimits{MaxParts: 2},
			want:    []gotPart{{"", "", "1"}, {"", "", "2"}},
			wantErr: ErrTooManyParts,
		},
		{
			name:    "part without header block",
			body:    "--b\r\nDICM\x00\x01\r\n\r\n--b--",
			wantErr: ErrMalformedMultipart,
		},
		{
			name:    "text after delimiter",
			body:    "--b\r\n\r\nA\r\n--b junk\r\n\r\n--b--",
			want:    []gotPart{{"", "", "A"}},
			wantErr: ErrMalformedMultipart,
		},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":   func(r io.Reader) io.Reader { return r },
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
		"dataerr": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got, err := readParts(wrap(strings.NewReader(tt.body)), "b", tt.limits)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("reading parts of %q: error = %v, want %v", tt.body, err, tt.wantErr)
				}
				if tt.wantErr != nil && err == io.EOF {
					t.Fatalf("reading parts of %q: bare io.EOF for a bad body", tt.body)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("parts of %q mismatch (-want +got):\n%s", tt.body, diff)
				}
			})
		}
	}
}

func TestPartReaderErrors(t *testing.T) {
	t.Run("source error passes", func(t *testing.T) {
		boom := errors.New("connection reset")
		r := io.MultiReader(strings.NewReader("--b\r\n\r\nabc"), iotest.ErrReader(boom))
		_, err := readParts(r, "b", PartLimits{})
		if !errors.Is(err, boom) || errors.Is(err, ErrTruncated) {
			t.Errorf("readParts with failing source = %v, want %v", err, boom)
		}
	})
	t.Run("unexpected EOF of source is truncation", func(t *testing.T) {
		r := io.MultiReader(strings.NewReader("--b\r\n\r\nabc"),
			iotest.ErrReader(io.ErrUnexpectedEOF))
		_, err := readParts(r, "b", PartLimits{})
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("readParts with cut source = %v, want %v", err, ErrTruncated)
		}
	})
	t.Run("error is sticky", func(t *testing.T) {
		pr := NewPartReader(strings.NewReader("--b\r\n\r\nabc"), "b", PartLimits{})
		p, err := pr.Next()
		if err != nil {
			t.Fatalf("Next() = %v", err)
		}
		if _, err := io.ReadAll(p.Body); !errors.Is(err, ErrTruncated) {
			t.Fatalf("reading body = %v, want %v", err, ErrTruncated)
		}
		if _, err := pr.Next(); !errors.Is(err, ErrTruncated) {
			t.Errorf("Next() after truncation = %v, want %v", err, ErrTruncated)
		}
	})
	t.Run("skipped body is drained", func(t *testing.T) {
		pr := NewPartReader(strings.NewReader("--b\r\n\r\nabc\r\n--b\r\n\r\nxyz\r\n--b--"),
			"b", PartLimits{})
		p1, err := pr.Next()
		if err != nil {
			t.Fatalf("Next() = %v", err)
		}
		p2, err := pr.Next()
		if err != nil {
			t.Fatalf("second Next() = %v", err)
		}
		if _, err := p1.Body.Read(make([]byte, 1)); err == nil {
			t.Errorf("reading a part after Next succeeded, want an error")
		}
		if b, _ := io.ReadAll(p2.Body); string(b) != "xyz" {
			t.Errorf("second part = %q, want %q", b, "xyz")
		}
		if _, err := pr.Next(); err != io.EOF {
			t.Errorf("Next() at the end = %v, want io.EOF", err)
		}
		if _, err := pr.Next(); err != io.EOF {
			t.Errorf("Next() again at the end = %v, want io.EOF", err)
		}
	})
}

// TestPartReaderLarge round-trips large binary parts written by
// [StowWriter] and read through a reader that returns small chunks.
func TestPartReaderLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var contents [][]byte
	var body bytes.Buffer
	sw := NewStowWriter(&body)
	for _, n := range []int{0, 1, 70, readBufferSize - 1, readBufferSize, 3*readBufferSize + 17} {
		c := make([]byte, n)
		for i := range c {
			c[i] = byte(rng.IntN(256))
		}
		// Plant delimiter look-alikes in the content.
		if n > 200 {
			copy(c[50:], "\r\n--"+sw.Boundary()[:10])
			copy(c[n-20:], "\r\n--")
		}
		contents = append(contents, c)
		w, err := sw.CreatePart()
		if err != nil {
			t.Fatalf("CreatePart() = %v", err)
		}
		if _, err := w.Write(c); err != nil {
			t.Fatalf("writing part: %v", err)
		}
	}
	if err := sw.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	mt, err := ParseSTOWMediaType(sw.ContentType())
	if err != nil {
		t.Fatalf("ParseSTOWMediaType(%q) = %v", sw.ContentType(), err)
	}
	for _, chunk := range []int{1, 7, 4096, 1 << 20} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			r := &chunkReader{r: bytes.NewReader(body.Bytes()), n: chunk}
			got, err := readParts(r, mt.Boundary, PartLimits{})
			if err != nil {
				t.Fatalf("readParts() = %v", err)
			}
			if len(got) != len(contents) {
				t.Fatalf("read %d parts, want %d", len(got), len(contents))
			}
			for i, p := range got {
				if p.Type != "application/dicom" || !bytes.Equal([]byte(p.Body), contents[i]) {
					t.Errorf("part %d: type %q, %d bytes; want application/dicom, %d bytes",
						i, p.Type, len(p.Body), len(contents[i]))
				}
			}
		})
	}
}

// chunkReader returns at most n bytes a read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), c.n)])
}

func TestStowWriterContentType(t *testing.T) {
	var b bytes.Buffer
	sw := NewStowWriter(&b)
	want := `multipart/related; type="application/dicom"; boundary=` + sw.Boundary()
	if got := sw.ContentType(); got != want {
		t.Errorf("ContentType() = %q, want %q", got, want)
	}
	w, err := sw.CreatePart()
	if err != nil {
		t.Fatalf("CreatePart() = %v", err)
	}
	io.WriteString(w, "X")
	sw.Close()
	wantBody := "--" + sw.Boundary() + "\r\nContent-Type: application/dicom\r\n\r\nX\r\n--" +
		sw.Boundary() + "--\r\n"
	if b.String() != wantBody {
		t.Errorf("body = %q, want %q", b.String(), wantBody)
	}
}

// FuzzPartReader checks that the reader never panics and agrees with
// mime/multipart on every body both accept.
func FuzzPartReader(f *testing.F) {
	for _, s := range []string{
		"--b\r\nContent-Type: application/dicom\r\n\r\nAAA\r\n--b--\r\n",
		"pre\r\n--b\r\n\r\nA\r\n--b\r\nX: y\r\n\r\n\r\n--b--\r\nepi",
		"--b\n\nA\n--b--",
		"--b\r\n\r\n\r\n--bb\r\n--b-x\n--b\r\r\n-\r\n--b--",
		"--b  \r\n\r\nA\r\n--b--",
		"--b\r\n\r\nABC\r\n--b",
		"",
	} {
		f.Add([]byte(s))
	}
	// A real STOW-RS body of one small DICOM file.
	data, err := os.ReadFile(filepath.Join(realDir, crFile))
	if err != nil {
		f.Fatalf("reading real test data (the qc package keeps it in testdata/real): %v", err)
	}
	var b bytes.Buffer
	sw := NewStowWriter(&b)
	w, _ := sw.CreatePart()
	w.Write(data)
	sw.Close()
	f.Add(bytes.ReplaceAll(b.Bytes(), []byte(sw.Boundary()), []byte("b")))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := readParts(bytes.NewReader(body), "b", PartLimits{MaxParts: 50})
		if err != nil {
			return
		}
		want, werr := stdlibParts(body, "b")
		if werr != nil {
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("parts of %q differ from mime/multipart (-std +ours):\n%s", body, diff)
		}
	})
}

// stdlibParts reads body with mime/multipart, as an independent reference.
func stdlibParts(body []byte, boundary string) ([]gotPart, error) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var parts []gotPart
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		ct := p.Header.Get("Content-Type")
		parts = append(parts, gotPart{ct, mediaTypeOf(ct), string(b)})
	}
}

// mediaTypeOf returns the media type of a Content-Type value, or "".
func mediaTypeOf(ct string) string {
	typ, _, err := parseMediaType(ct)
	if err != nil {
		return ""
	}
	return typ
}

// BenchmarkPartReader reads a body of 16 parts of 1 MiB each.
func BenchmarkPartReader(b *testing.B) {
	var body bytes.Buffer
	sw := NewStowWriter(&body)
	part := bytes.Repeat([]byte("DICM\r\n--\x00\xff"), 1<<20/10)
	for range 16 {
		w, _ := sw.CreatePart()
		w.Write(part)
	}
	sw.Close()
	data := body.Bytes()
	buf := make([]byte, 32<<10)

	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		pr := NewPartReader(bytes.NewReader(data), sw.Boundary(), PartLimits{})
		for {
			p, err := pr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatalf("Next() = %v", err)
			}
			if _, err := io.CopyBuffer(io.Discard, p.Body, buf); err != nil {
				b.Fatalf("reading part: %v", err)
			}
		}
	}
}
