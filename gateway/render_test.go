package gateway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image/color"
	"image/png"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
)

// ctFrame returns a rows x columns native frame of signed 16-bit stored
// values, every pixel hu Hounsfield units but those of set, under the
// layout of a CT with Rescale Intercept -1024 and slope 1.
func ctFrame(rows, columns int, hu float64, set map[[2]int]float64) ([]byte,
	pixelLayout) {
	b := make([]byte, 2*rows*columns)
	for r := range rows {
		for c := range columns {
			v, ok := set[[2]int{r, c}]
			if !ok {
				v = hu
			}
			binary.LittleEndian.PutUint16(b[2*(r*columns+c):], uint16(int16(v+1024)))
		}
	}
	return b, pixelLayout{Rows: rows, Columns: columns, BitsAllocated: 16, BitsStored: 16,
		Signed: true, Slope: 1, Intercept: -1024}
}

func TestRenderOutlines(t *testing.T) {
	// An 8 x 8 CT frame at 0 HU with three marked pixels, and a 4 x 4
	// mask on rows and columns 2 to 5 drawn in red.
	b, layout := ctFrame(8, 8, 0, map[[2]int]float64{
		{3, 3}: 40, {0, 0}: -1000, {7, 7}: 1000,
	})
	f, err := decodeNativeFrame(b, layout)
	if err != nil {
		t.Fatalf("decodeNativeFrame: %v", err)
	}
	m := qc.NewMask(8, 8)
	for r := 2; r <= 5; r++ {
		for c := 2; c <= 5; c++ {
			m.Set(r, c)
		}
	}
	red := color.RGBA{255, 0, 0, 255}
	img, err := renderOutlines(f, voiWindow{Center: 40, Width: 400},
		[]outline{{Mask: m, Color: red}})
	if err != nil {
		t.Fatalf("renderOutlines: %v", err)
	}

	// The PNG the route sends, decoded again.
	data, err := encodePNG(img)
	if err != nil {
		t.Fatalf("encodePNG: %v", err)
	}
	dec, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding the PNG: %v", err)
	}
	if got := dec.Bounds().Size(); got.X != 8 || got.Y != 8 {
		t.Fatalf("PNG size = %v, want 8 x 8", got)
	}

	// Greys by the linear window of PS3.3 C.11.2.1.2.1 with c = 40,
	// w = 400, worked by hand: below c - 0.5 - (w-1)/2 = -160 is 0, above
	// c - 0.5 + (w-1)/2 = 239.5 is 255, else ((x - 39.5)/399 + 0.5) * 255:
	// 0 HU gives 102.26, 40 HU gives 127.82.
	grey := func(v uint8) color.RGBA { return color.RGBA{v, v, v, 255} }
	tests := []struct {
		name string
		r, c int
		want color.RGBA
	}{
		{"outline corner", 2, 2, red},
		{"outline top edge", 2, 4, red},
		{"outline right edge", 4, 5, red},
		{"outline bottom corner", 5, 5, red},
		{"interior at 40 HU", 3, 3, grey(128)},
		{"interior at 0 HU", 4, 4, grey(102)},
		{"outside at 0 HU", 1, 2, grey(102)},
		{"outside at -1000 HU", 0, 0, grey(0)},
		{"outside at 1000 HU", 7, 7, grey(255)},
		{"outside next to the mask", 6, 5, grey(102)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := color.RGBAModel.Convert(dec.At(tt.c, tt.r)).(color.RGBA)
			if got != tt.want {
				t.Errorf("pixel (row %d, column %d) = %v, want %v", tt.r, tt.c, got, tt.want)
			}
		})
	}
}

func TestRenderOutlinesMonochrome1AndEdges(t *testing.T) {
	// A mask touching the image's edge: its edge pixels are outline too,
	// and MONOCHROME1 inverts the grey.
	b, layout := ctFrame(3, 3, 1000, nil)
	layout.Monochrome1 = true
	f, err := decodeNativeFrame(b, layout)
	if err != nil {
		t.Fatalf("decodeNativeFrame: %v", err)
	}
	m := qc.NewMask(3, 3)
	for c := range 3 {
		m.Set(0, c)
		m.Set(1, c)
	}
	blue := color.RGBA{0, 0, 255, 255}
	img, err := renderOutlines(f, voiWindow{Center: 40, Width: 400},
		[]outline{{Mask: m, Color: blue}})
	if err != nil {
		t.Fatalf("renderOutlines: %v", err)
	}
	var got []color.RGBA
	for r := range 3 {
		for c := range 3 {
			got = append(got, img.RGBAAt(c, r))
		}
	}
	black := color.RGBA{0, 0, 0, 255}
	want := []color.RGBA{blue, blue, blue, blue, blue, blue, black, black, black}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pixels mismatch (-want +got):\n%s", diff)
	}
}

func TestRenderOutlinesReduces(t *testing.T) {
	// 2050 rows need a factor of 3 to fit in 1024: 684 x 4 pixels.
	b, layout := ctFrame(2050, 10, 0, nil)
	f, err := decodeNativeFrame(b, layout)
	if err != nil {
		t.Fatalf("decodeNativeFrame: %v", err)
	}
	m := qc.NewMask(2050, 10)
	m.Set(2049, 9)
	img, err := renderOutlines(f, defaultCTWindow, []outline{{Mask: m,
		Color: color.RGBA{0, 255, 0, 255}}})
	if err != nil {
		t.Fatalf("renderOutlines: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 4 || got.Y != 684 {
		t.Errorf("reduced size = %v, want 4 x 684", got)
	}
	if got := img.RGBAAt(3, 683); got != (color.RGBA{0, 255, 0, 255}) {
		t.Errorf("reduced pixel holding the outline = %v, want green", got)
	}

	_, err = renderOutlines(f, defaultCTWindow, []outline{{Mask: qc.NewMask(4, 4)}})
	if !errors.Is(err, errUnrenderable) {
		t.Errorf("renderOutlines(mask of another size) = %v, want errUnrenderable", err)
	}
}

func TestDecodeNativeFrame(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		layout  pixelLayout
		want    []float64
		wantErr error
	}{
		{
			name: "signed 12 bits in 16, high bits set",
			// 0x0FFF is -1 in 12 bits; 0xF800 masks to 0x800, -2048;
			// 0x07FF is 2047.
			b: []byte{0xFF, 0x0F, 0x00, 0xF8, 0xFF, 0x07},
			layout: pixelLayout{Rows: 1, Columns: 3, BitsAllocated: 16, BitsStored: 12,
				Signed: true},
			want: []float64{-1, -2048, 2047},
		},
		{
			name: "unsigned 8 bits with rescale",
			b:    []byte{0, 10, 255},
			layout: pixelLayout{Rows: 3, Columns: 1, BitsAllocated: 8, BitsStored: 8,
				Slope: 2, Intercept: -5},
			want: []float64{-5, 15, 505},
		},
		{
			name:    "compressed length",
			b:       []byte{1, 2, 3},
			layout:  pixelLayout{Rows: 2, Columns: 2, BitsAllocated: 8, BitsStored: 8},
			wantErr: errUnrenderable,
		},
		{
			name:    "huge frame",
			layout:  pixelLayout{Rows: 9000, Columns: 2, BitsAllocated: 8, BitsStored: 8},
			wantErr: errUnrenderable,
		},
		{
			name:    "32 bits",
			layout:  pixelLayout{Rows: 1, Columns: 1, BitsAllocated: 32, BitsStored: 32},
			wantErr: errUnrenderable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := decodeNativeFrame(tt.b, tt.layout)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("decodeNativeFrame() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, f.Values); diff != "" {
				t.Errorf("values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVOIWindowGrey(t *testing.T) {
	// Worked from PS3.3 C.11.2.1.2.1 by hand.
	tests := []struct {
		name string
		w    voiWindow
		v    float64
		want uint8
	}{
		{"at the lower bound", voiWindow{40, 400}, -160, 0},
		{"just above the lower bound", voiWindow{40, 400}, -159, 1}, // 0.64
		{"at the upper bound", voiWindow{40, 400}, 239.5, 255},      // 255.32
		{"above", voiWindow{40, 400}, 240, 255},
		{"centre", voiWindow{40, 400}, 40, 128},         // 127.82
		{"width 1", voiWindow{10, 1}, 10, 255},          // above 9.5
		{"width 1 below", voiWindow{10, 1}, 9.5, 0},     // at 9.5
		{"0 to 255", voiWindow{128, 256}, 100, 100},     // 100.0
		{"0 to 255 top", voiWindow{128, 256}, 255, 255}, // 255.0
		{"0 to 255 bottom", voiWindow{128, 256}, 0, 0},  // at the lower bound 0
		{"narrow window", voiWindow{0, 3}, 0, 191},      // (0.5/2+0.5)*255
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.w.grey(tt.v); got != tt.want {
				t.Errorf("%+v.grey(%v) = %d, want %d", tt.w, tt.v, got, tt.want)
			}
		})
	}
	f := &sourceFrame{Rows: 1, Columns: 2, Values: []float64{0, 255}}
	if got, want := minMaxWindow(f), (voiWindow{128, 256}); got != want {
		t.Errorf("minMaxWindow(0, 255) = %+v, want %+v", got, want)
	}
}

func TestLabToSRGB(t *testing.T) {
	// Expected values from an independent conversion: CIE 15 CIELab to XYZ
	// with the D65 white, then the sRGB matrix and transfer function of
	// IEC 61966-2-1, in python3 with numpy:
	//
	//	def srgb(l, a, b):
	//	    L, A, B = l*100/65535, a*255/65535-128, b*255/65535-128
	//	    fy = (L+16)/116; fx = fy+A/500; fz = fy-B/200
	//	    e, k = 216/24389, 24389/27
	//	    f = lambda t: t**3 if t**3 > e else (116*t-16)/k
	//	    xyz = np.array([f(fx)*0.95047, fy**3 if L > k*e else L/k, f(fz)*1.08883])
	//	    m = np.array([[3.2404542, -1.5371385, -0.4985314],
	//	                  [-0.9692660, 1.8760108, 0.0415560],
	//	                  [0.0556434, -0.2040259, 1.0572252]])
	//	    g = lambda c: 12.92*c if c <= 0.0031308 else 1.055*c**(1/2.4)-0.055
	//	    return [round(255*g(min(max(c, 0), 1))) for c in m @ xyz]
	//
	// For the liver it also agrees with the colour 3D Slicer gives the liver,
	// (221, 130, 101), which dcmqi encoded as 41661\41167\40792 in the liver
	// SEG of qc/testdata/real. The white points differ in the fifth digit,
	// so a channel may differ by one.
	tests := []struct {
		name    string
		l, a, b uint16
		want    [3]int
	}{
		{"liver of dcmqi", 41661, 41167, 40792, [3]int{221, 130, 101}},
		{"white", 65535, 32896, 32896, [3]int{255, 255, 255}},
		{"black", 0, 32896, 32896, [3]int{0, 0, 0}},
		{"sRGB red", 34885, 53485, 50171, [3]int{255, 0, 0}},
		{"dark green", 21574, 2570, 37164, [3]int{0, 103, 48}},
		{"yellow green", 50000, 20000, 60000, [3]int{137, 209, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := labToSRGB(tt.l, tt.a, tt.b)
			got := [3]int{int(c.R), int(c.G), int(c.B)}
			for i := range got {
				if d := got[i] - tt.want[i]; d < -1 || d > 1 {
					t.Errorf("labToSRGB(%d, %d, %d) = %v, want %v (within 1)", tt.l, tt.a,
						tt.b, got, tt.want)
					break
				}
			}
		})
	}
}

func TestSegmentColor(t *testing.T) {
	lab := qc.SegmentDescription{SegmentNumber: 1,
		RecommendedDisplayCIELabValue: []uint16{65535, 32896, 32896}}
	if got := segmentColor(lab); got != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("segmentColor(white Lab) = %v, want white", got)
	}
	if got := segmentColor(qc.SegmentDescription{SegmentNumber: 10}); got != segmentPalette[1] {
		t.Errorf("segmentColor(segment 10) = %v, want palette colour 2 %v", got,
			segmentPalette[1])
	}
}

func TestPNGFrameNumber(t *testing.T) {
	tests := []struct {
		file   string
		want   int
		wantOK bool
	}{
		{"1.png", 1, true},
		{"96.png", 96, true},
		{"0.png", 0, false},
		{"01.png", 0, false},
		{"-1.png", 0, false},
		{"1.jpg", 0, false},
		{".png", 0, false},
		{"99999999.png", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, ok := pngFrameNumber(tt.file)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("pngFrameNumber(%q) = %d, %v, want %d, %v", tt.file, got, ok,
					tt.want, tt.wantOK)
			}
		})
	}
}

func TestCheckNativePart(t *testing.T) {
	tests := []struct {
		name, contentType string
		wantErr           error
	}{
		{"no type", "", nil},
		{"octet stream", "application/octet-stream", nil},
		{"explicit little endian",
			"application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1", nil},
		{"quoted implicit", `application/octet-stream; transfer-syntax="1.2.840.10008.1.2"`, nil},
		{"JPEG baseline", "image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50", errUnrenderable},
		{"octet stream of JPEG 2000",
			"application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.90", errUnrenderable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt := ""
			if tt.contentType != "" {
				mt, _, _ = cutType(tt.contentType)
			}
			p := &dicomweb.Part{ContentType: tt.contentType, Type: mt}
			if err := checkNativePart(p); !errors.Is(err, tt.wantErr) {
				t.Errorf("checkNativePart(%q) = %v, want %v", tt.contentType, err, tt.wantErr)
			}
		})
	}
}

// cutType returns the media type of a Content-Type value, as the part
// reader gives it in Part.Type.
func cutType(ct string) (string, string, bool) {
	t, rest, ok := bytes.Cut([]byte(ct), []byte(";"))
	return string(bytes.TrimSpace(t)), string(rest), ok
}
