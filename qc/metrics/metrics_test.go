package metrics

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// relTol is the largest relative difference allowed from scipy's values:
// both compute the same sums of squares in float64, so only rounding
// differs.
const relTol = 1e-9

// expectedFile is the JSON that testdata/gen_expected.py writes with scipy.
type expectedFile struct {
	ToleranceMM float64 `json:"tolerance_mm"`
	Cases       []struct {
		Name         string     `json:"name"`
		Spacing      [3]float64 `json:"spacing"`
		VoxelsA      int        `json:"voxels_a"`
		VoxelsB      int        `json:"voxels_b"`
		Intersection int        `json:"intersection"`
		Dice         float64    `json:"dice"`
		Jaccard      float64    `json:"jaccard"`
		HausdorffMM  float64    `json:"hausdorff_mm"`
		HD95MM       float64    `json:"hd95_mm"`
		ASSDMM       float64    `json:"assd_mm"`
		NSD          float64    `json:"nsd"`
	} `json:"cases"`
	EDT struct {
		Spacing   [3]float64 `json:"spacing"`
		Distances []float64  `json:"distances"`
	} `json:"edt"`
}

// readMask reads a mask file of testdata/cases (format in gen_expected.py).
func readMask(t *testing.T, name string) ([3]int, []bool) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cases", name))
	if err != nil {
		t.Fatalf("opening mask: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var dims [3]int
	if !sc.Scan() {
		t.Fatalf("%s: empty file", name)
	}
	if _, err := fmt.Sscan(sc.Text(), &dims[0], &dims[1], &dims[2]); err != nil {
		t.Fatalf("%s: reading dims: %v", name, err)
	}
	var m []bool
	for sc.Scan() {
		for _, c := range strings.TrimSpace(sc.Text()) {
			m = append(m, c == '1')
		}
	}
	if len(m) != dims[0]*dims[1]*dims[2] {
		t.Fatalf("%s: %d voxels for dims %v", name, len(m), dims)
	}
	return dims, m
}

func loadExpected(t *testing.T) expectedFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatalf("reading expected values: %v", err)
	}
	var e expectedFile
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("decoding expected values: %v", err)
	}
	return e
}

// approxEqual reports whether got is within relTol of want (or both are 0).
func approxEqual(got, want float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= relTol*math.Max(math.Abs(got), math.Abs(want))
}

// TestCompareScipy compares every metric with scipy's on the cases of
// testdata: anisotropic ellipsoids, identical and disjoint masks, blobs
// touching the grid's faces, and a voxel against a line (by hand: the
// voxel is 3 mm from the line; the line's far end is sqrt(3²+3²) = 4.243 mm
// from the voxel, which is the Hausdorff distance).
func TestCompareScipy(t *testing.T) {
	e := loadExpected(t)
	if len(e.Cases) < 5 {
		t.Fatalf("expected.json holds %d cases, want 5", len(e.Cases))
	}
	for _, c := range e.Cases {
		t.Run(c.Name, func(t *testing.T) {
			dims, a := readMask(t, c.Name+"-a.txt")
			_, b := readMask(t, c.Name+"-b.txt")
			g := Grid{Dims: dims, Spacing: c.Spacing}
			got, err := Compare(g, a, b, e.ToleranceMM)
			if err != nil {
				t.Fatalf("Compare() error: %v", err)
			}
			if got.VoxelsA != c.VoxelsA || got.VoxelsB != c.VoxelsB ||
				got.Intersection != c.Intersection {
				t.Errorf("counts = %d, %d, %d, want %d, %d, %d", got.VoxelsA, got.VoxelsB,
					got.Intersection, c.VoxelsA, c.VoxelsB, c.Intersection)
			}
			for _, m := range []struct {
				name      string
				got, want float64
			}{
				{"Dice", got.Dice, c.Dice}, {"Jaccard", got.Jaccard, c.Jaccard},
				{"Hausdorff", got.HausdorffMM, c.HausdorffMM}, {"HD95", got.HD95MM, c.HD95MM},
				{"ASSD", got.ASSDMM, c.ASSDMM}, {"NSD", got.NSD, c.NSD},
			} {
				if !approxEqual(m.got, m.want) {
					t.Errorf("Compare(%s) %s = %.17g, want %.17g", c.Name, m.name, m.got,
						m.want)
				}
			}
		})
	}
}

// TestSquaredEDTScipy compares the distance transform with scipy's
// distance_transform_edt on an anisotropic grid.
func TestSquaredEDTScipy(t *testing.T) {
	e := loadExpected(t)
	dims, feat := readMask(t, "edt-features.txt")
	got := SquaredEDT(Grid{Dims: dims, Spacing: e.EDT.Spacing}, feat)
	if len(got) != len(e.EDT.Distances) {
		t.Fatalf("SquaredEDT() gave %d values, want %d", len(got), len(e.EDT.Distances))
	}
	bad := 0
	for i, want := range e.EDT.Distances {
		if g := math.Sqrt(got[i]); !approxEqual(g, want) {
			if bad++; bad <= 5 {
				t.Errorf("distance at %d = %.17g, want %.17g", i, g, want)
			}
		}
	}
}

// TestCompareEmpty checks the documented values for empty masks.
func TestCompareEmpty(t *testing.T) {
	g := Grid{Dims: [3]int{2, 3, 4}, Spacing: [3]float64{1, 1, 1}}
	empty := make([]bool, g.Len())
	one := make([]bool, g.Len())
	one[5] = true

	both, err := Compare(g, empty, empty, 1)
	if err != nil {
		t.Fatalf("Compare(empty, empty) error: %v", err)
	}
	for name, v := range map[string]float64{"Dice": both.Dice, "Jaccard": both.Jaccard,
		"HD": both.HausdorffMM, "HD95": both.HD95MM, "ASSD": both.ASSDMM, "NSD": both.NSD} {
		if !math.IsNaN(v) {
			t.Errorf("Compare(empty, empty) %s = %v, want NaN", name, v)
		}
	}
	for _, pair := range [][2][]bool{{one, empty}, {empty, one}} {
		r, err := Compare(g, pair[0], pair[1], 1)
		if err != nil {
			t.Fatalf("Compare() error: %v", err)
		}
		if r.Dice != 0 || r.Jaccard != 0 || r.NSD != 0 || !math.IsInf(r.HausdorffMM, 1) ||
			!math.IsInf(r.HD95MM, 1) || !math.IsInf(r.ASSDMM, 1) {
			t.Errorf("Compare(one empty) = %+v, want 0 overlap and +Inf distances", r)
		}
	}
	if d := SquaredEDT(g, empty); !math.IsInf(d[0], 1) {
		t.Errorf("SquaredEDT(no features)[0] = %v, want +Inf", d[0])
	}
}

// TestCompareErrors checks bad grids.
func TestCompareErrors(t *testing.T) {
	tests := []struct {
		name string
		g    Grid
		n    int
		tol  float64
	}{
		{"zero spacing", Grid{Dims: [3]int{1, 1, 2}, Spacing: [3]float64{1, 0, 1}}, 2, 1},
		{"zero dim", Grid{Dims: [3]int{0, 1, 2}, Spacing: [3]float64{1, 1, 1}}, 0, 1},
		{"short mask", Grid{Dims: [3]int{1, 1, 2}, Spacing: [3]float64{1, 1, 1}}, 1, 1},
		{"negative tolerance", Grid{Dims: [3]int{1, 1, 2}, Spacing: [3]float64{1, 1, 1}}, 2,
			-1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := make([]bool, tt.n)
			if _, err := Compare(tt.g, m, m, tt.tol); !errors.Is(err, ErrGrid) {
				t.Errorf("Compare() error = %v, want ErrGrid", err)
			}
		})
	}
}

// TestPercentile checks numpy's linear interpolation.
func TestPercentile(t *testing.T) {
	tests := []struct {
		v    []float64
		p    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 95, 3.85}, // pos 2.85
		{[]float64{5}, 95, 5},
		{[]float64{0, 10}, 50, 5},
		{[]float64{0, 10}, 100, 10},
	}
	for _, tt := range tests {
		if got := Percentile(tt.v, tt.p); !approxEqual(got, tt.want) {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.v, tt.p, got, tt.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 95)) {
		t.Errorf("Percentile(nil) is not NaN")
	}
}
