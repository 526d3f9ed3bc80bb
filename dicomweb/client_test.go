package dicomweb

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Credentials the fake upstreams expect.
const (
	fakeUser     = "qcgate"
	fakePassword = "s3cret"
)

// fakeUpstream serves handler behind Basic authentication at
// /dicom-web (and Orthanc's REST API at /) and returns a client for it.
func fakeUpstream(t *testing.T, h http.HandlerFunc, opts ClientOptions) (*Client, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != fakeUser || p != fakePassword {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)

	opts.BaseURL = srv.URL + "/dicom-web/"
	opts.User, opts.Password = fakeUser, fakePassword
	c, err := NewClient(opts)
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	return c, &calls
}

// noCompression returns a client whose transport does not ask for gzip.
func noCompression() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true}}
}

// writeGzip writes data gzipped with its Content-Encoding.
func writeGzip(w http.ResponseWriter, data []byte) {
	w.Header().Set("Content-Encoding", "gzip")
	zw := gzip.NewWriter(w)
	zw.Write(data)
	zw.Close()
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		name, base, orthanc string
		wantBase, wantRoot  string
		wantErr             bool
	}{
		{name: "orthanc default", base: "http://127.0.0.1:8042/dicom-web/",
			wantBase: "http://127.0.0.1:8042/dicom-web", wantRoot: "http://127.0.0.1:8042"},
		{name: "below a prefix", base: "https://pacs.example/orthanc/dicom-web",
			wantBase: "https://pacs.example/orthanc/dicom-web",
			wantRoot: "https://pacs.example/orthanc"},
		{name: "explicit root", base: "http://h/dw", orthanc: "http://h:8042/",
			wantBase: "http://h/dw", wantRoot: "http://h:8042"},
		{name: "empty", base: "", wantErr: true},
		{name: "relative", base: "/dicom-web", wantErr: true},
		{name: "other scheme", base: "ftp://h/dicom-web", wantErr: true},
		{name: "user info", base: "http://u:p@h/dicom-web", wantErr: true},
		{name: "query", base: "http://h/dicom-web?x=1", wantErr: true},
		{name: "bad root", base: "http://h/dicom-web", orthanc: "h:8042", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(ClientOptions{BaseURL: tt.base, OrthancRoot: tt.orthanc})
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewClient(%q) error = %v, want error %v", tt.base, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := c.Base.String(); got != tt.wantBase {
				t.Errorf("Base = %q, want %q", got, tt.wantBase)
			}
			if got := c.orthancRoot().String(); got != tt.wantRoot {
				t.Errorf("Orthanc root = %q, want %q", got, tt.wantRoot)
			}
		})
	}
}

func TestSeriesMetadata(t *testing.T) {
	metadata := readTestdata(t, "orthanc-ct-metadata.json")
	metaPath := "/dicom-web/studies/" + ctStudyUID + "/series/" + ctSeriesUID + "/metadata"
	qido := `[{"0020000D":{"vr":"UI","Value":["` + ctStudyUID + `"]},` +
		`"0020000E":{"vr":"UI","Value":["` + ctSeriesUID + `"]}}]`

	tests := []struct {
		name    string
		study   string
		series  string
		gzip    string // "": never; "asked": when the request asks; "always"
		noComp  bool   // the client's transport does not ask for gzip
		serve   func(w http.ResponseWriter, r *http.Request) bool
		want    int
		wantErr error
		status  int
	}{
		{name: "plain", study: ctStudyUID, series: ctSeriesUID, want: 3},
		{name: "gzip asked by the transport", study: ctStudyUID, series: ctSeriesUID,
			gzip: "asked", want: 3},
		{name: "gzip not asked for", study: ctStudyUID, series: ctSeriesUID, gzip: "always",
			noComp: true, want: 3},
		{name: "study found by QIDO", series: ctSeriesUID, want: 3},
		{name: "series unknown to QIDO", series: "1.2.3", wantErr: ErrNotFound},
		{name: "404", study: ctStudyUID, series: "1.2.4", wantErr: ErrNotFound, status: 404},
		{
			name: "500", study: ctStudyUID, series: ctSeriesUID, status: 500,
			serve: func(w http.ResponseWriter, r *http.Request) bool {
				http.Error(w, "boom", http.StatusInternalServerError)
				return true
			},
		},
		{
			name: "malformed JSON", study: ctStudyUID, series: ctSeriesUID,
			wantErr: ErrMalformedJSON,
			serve: func(w http.ResponseWriter, r *http.Request) bool {
				io.WriteString(w, `{"not":"an array"}`)
				return true
			},
		},
		{
			name: "no instances", study: ctStudyUID, series: ctSeriesUID, wantErr: ErrNotFound,
			serve: func(w http.ResponseWriter, r *http.Request) bool {
				io.WriteString(w, `[]`)
				return true
			},
		},
		{name: "path in series UID", study: ctStudyUID, series: "1.2/../../tools",
			wantErr: ErrInvalidUID},
		{name: "dot segments in study UID", study: "..", series: ctSeriesUID,
			wantErr: ErrInvalidUID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotAcceptEncoding string
			handler := func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Accept") != "application/dicom+json" {
					t.Errorf("Accept = %q, want application/dicom+json", r.Header.Get("Accept"))
				}
				if tt.serve != nil && tt.serve(w, r) {
					return
				}
				gotAcceptEncoding = r.Header.Get("Accept-Encoding")
				var body []byte
				switch {
				case r.URL.Path == metaPath:
					body = metadata
				case r.URL.Path == "/dicom-web/series" &&
					r.URL.Query().Get("SeriesInstanceUID") == ctSeriesUID:
					body = []byte(qido)
				case r.URL.Path == "/dicom-web/series":
					body = []byte("[]")
				default:
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/dicom+json")
				if tt.gzip == "always" || tt.gzip == "asked" &&
					strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
					writeGzip(w, body)
					return
				}
				w.Write(body)
			}
			opts := ClientOptions{}
			if tt.noComp {
				opts.HTTP = noCompression()
			}
			c, calls := fakeUpstream(t, handler, opts)

			got, err := c.SeriesMetadata(context.Background(), tt.study, tt.series)
			if (tt.wantErr != nil || tt.status == 0) && !errors.Is(err, tt.wantErr) {
				t.Fatalf("SeriesMetadata() error = %v, want %v", err, tt.wantErr)
			}
			if tt.status != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Status != tt.status {
					t.Fatalf("SeriesMetadata() error = %v, want a StatusError %d", err, tt.status)
				}
			}
			if errors.Is(tt.wantErr, ErrInvalidUID) && calls.Load() != 0 {
				t.Errorf("SeriesMetadata() with an invalid UID sent %d requests", calls.Load())
			}
			if len(got) != tt.want {
				t.Fatalf("SeriesMetadata() gave %d data sets, want %d", len(got), tt.want)
			}
			if tt.gzip == "asked" && gotAcceptEncoding != "gzip" {
				t.Errorf("Accept-Encoding = %q, want gzip", gotAcceptEncoding)
			}
			if tt.want == 0 {
				return
			}
			checkCTMetadata(t, got)
		})
	}
}

func TestSeriesMetadataStatusBody(t *testing.T) {
	c, _ := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, strings.Repeat("x", 5000), http.StatusBadGateway)
	}, ClientOptions{})
	_, err := c.SeriesMetadata(context.Background(), ctStudyUID, ctSeriesUID)
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("SeriesMetadata() error = %v, want a StatusError", err)
	}
	if se.Status != http.StatusBadGateway || len(se.Body) != maxStatusBody {
		t.Errorf("StatusError = %d with %d bytes of body, want 502 with %d", se.Status,
			len(se.Body), maxStatusBody)
	}
}

// checkCTMetadata checks the metadata of the three CT images of the
// dcmqi-ct-liver-binary case against values read with dcmdump from the
// files.
func checkCTMetadata(t *testing.T, got []Dataset) {
	t.Helper()
	var ct1 Dataset
	for _, ds := range got {
		if ds.String("00080018") == ctSOP1 {
			ct1 = ds
		}
	}
	if ct1 == nil {
		t.Fatalf("metadata lacks instance %s", ctSOP1)
	}
	if rows, ok := ct1.Int("00280010"); !ok || rows != 512 {
		t.Errorf("Rows = %d, %v, want 512", rows, ok)
	}
	if cols, ok := ct1.Int("00280011"); !ok || cols != 512 {
		t.Errorf("Columns = %d, %v, want 512", cols, ok)
	}
	if diff := cmp.Diff([]float64{-235.199997, -226.800003, -126.690002},
		ct1.Float64s("00200032")); diff != "" {
		t.Errorf("ImagePositionPatient mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{0.810547, 0.810547}, ct1.Float64s("00280030")); diff != "" {
		t.Errorf("PixelSpacing mismatch (-want +got):\n%s", diff)
	}
	if got := ct1.String("0020000E"); got != ctSeriesUID {
		t.Errorf("SeriesInstanceUID = %q, want %q", got, ctSeriesUID)
	}
}

func TestClientTransportErrors(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c, err := NewClient(ClientOptions{BaseURL: srv.URL + "/dicom-web"})
		if err != nil {
			t.Fatalf("NewClient() = %v", err)
		}
		_, err = c.SeriesMetadata(context.Background(), ctStudyUID, ctSeriesUID)
		if !errors.Is(err, ErrUpstreamUnreachable) || errors.Is(err, ErrUpstreamTimeout) {
			t.Errorf("SeriesMetadata() of a closed server = %v, want %v", err,
				ErrUpstreamUnreachable)
		}
		_, status, err := c.Store(context.Background(), "", "x", strings.NewReader("x"))
		if !errors.Is(err, ErrUpstreamUnreachable) || status != 0 {
			t.Errorf("Store() of a closed server = %d, %v, want 0, %v", status, err,
				ErrUpstreamUnreachable)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		c, _ := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, ClientOptions{Timeout: 50 * time.Millisecond})
		start := time.Now()
		_, err := c.SeriesMetadata(context.Background(), ctStudyUID, ctSeriesUID)
		if !errors.Is(err, ErrUpstreamTimeout) || errors.Is(err, ErrUpstreamUnreachable) {
			t.Errorf("SeriesMetadata() of a silent server = %v, want %v", err, ErrUpstreamTimeout)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("SeriesMetadata() took %v with a 50 ms timeout", d)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		c, _ := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, ClientOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := c.SeriesMetadata(ctx, ctStudyUID, ctSeriesUID)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUpstreamUnreachable) ||
			errors.Is(err, ErrUpstreamTimeout) {
			t.Errorf("SeriesMetadata() cancelled = %v, want context.Canceled only", err)
		}
	})

	t.Run("answer cut", func(t *testing.T) {
		c, _ := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, `[{"00080018":{"vr":"UI","Value":["1.2`)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}, ClientOptions{})
		_, err := c.SeriesMetadata(context.Background(), ctStudyUID, ctSeriesUID)
		if !errors.Is(err, ErrUpstreamUnreachable) {
			t.Errorf("SeriesMetadata() with a cut answer = %v, want %v", err,
				ErrUpstreamUnreachable)
		}
	})
}

func TestStore(t *testing.T) {
	stored := readTestdata(t, "orthanc-stow-200.json")
	mix := readTestdata(t, "orthanc-stow-400-mix.json")
	conflict := readTestdata(t, "orthanc-stow-409-other-study.json")

	tests := []struct {
		name       string
		study      string
		answer     []byte
		answerType string
		status     int
		gzip       bool
		wantStatus int
		wantRefs   int
		wantFailed []FailedSOP
		wantErr    error
	}{
		{name: "stored", answer: stored, answerType: "application/dicom+json", status: 200,
			wantStatus: 200, wantRefs: 1},
		{name: "stored gzip", answer: stored, answerType: "application/dicom+json", status: 200,
			gzip: true, wantStatus: 200, wantRefs: 1},
		{name: "mix answered 400 without type", answer: mix, status: 400,
			wantStatus: 400, wantRefs: 1},
		{name: "other study", study: "1.2.3.4", answer: conflict, status: 409, wantStatus: 409,
			wantFailed: []FailedSOP{{ctImageSOP, ctSOP1, FailureProcessing, ""}}},
		{name: "HTML error", answer: []byte("<html>down</html>"), answerType: "text/html",
			status: 503, wantStatus: 503},
		{name: "unauthorized", answer: []byte(`{"HttpError":"Unauthorized"}`), status: 401,
			wantStatus: 401},
		{name: "malformed answer", answer: []byte(`{"00081199":`), status: 200,
			wantStatus: 200, wantErr: ErrMalformedJSON},
		{name: "invalid study", study: "1.2.x", wantErr: ErrInvalidUID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotBody []byte
			c, _ := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				wantPath := "/dicom-web/studies"
				if tt.study != "" {
					wantPath += "/" + tt.study
				}
				if r.Method != http.MethodPost || r.URL.Path != wantPath {
					t.Errorf("request %s %s, want POST %s", r.Method, r.URL.Path, wantPath)
				}
				if r.Header.Get("Expect") != "" {
					t.Errorf("request has Expect: %q", r.Header.Get("Expect"))
				}
				gotBody, _ = io.ReadAll(r.Body)
				if tt.answerType != "" {
					w.Header().Set("Content-Type", tt.answerType)
				}
				if tt.gzip {
					w.Header().Set("Content-Encoding", "gzip")
					w.WriteHeader(tt.status)
					zw := gzip.NewWriter(w)
					zw.Write(tt.answer)
					zw.Close()
					return
				}
				w.WriteHeader(tt.status)
				w.Write(tt.answer)
			}, ClientOptions{HTTP: noCompression()})

			var body bytes.Buffer
			sw := NewStowWriter(&body)
			pw, _ := sw.CreatePart()
			io.WriteString(pw, "DICM-ish content")
			sw.Close()
			sent := body.String()

			got, status, err := c.Store(context.Background(), tt.study, sw.ContentType(), &body)
			statusErr := tt.status == 503 || tt.status == 401
			if !statusErr && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Store() error = %v, want %v", err, tt.wantErr)
			}
			if status != tt.wantStatus {
				t.Errorf("Store() status = %d, want %d", status, tt.wantStatus)
			}
			if tt.wantErr != nil {
				return
			}
			if tt.wantStatus >= 200 && string(gotBody) != sent {
				t.Errorf("upstream got body %q, want %q", gotBody, sent)
			}
			if statusErr {
				var se *StatusError
				if !errors.As(err, &se) || se.Status != tt.status || got != nil {
					t.Errorf("Store() = %v, %v, want nil and a StatusError %d", got, err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("Store() = %v", err)
			}
			if len(got.Referenced) != tt.wantRefs {
				t.Errorf("Store() referenced %d instances, want %d", len(got.Referenced),
					tt.wantRefs)
			}
			if diff := cmp.Diff(tt.wantFailed, got.Failed); diff != "" {
				t.Errorf("Store() failed mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStoreStreams checks that Store sends the body as it comes: the
// upstream reads the first part while the second is not written yet.
func TestStoreStreams(t *testing.T) {
	firstSeen := make(chan struct{})
	var gotParts []string
	var gotType string
	var gotLength int64
	c, _ := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		gotType, gotLength = r.Header.Get("Content-Type"), r.ContentLength
		mt, err := ParseSTOWMediaType(gotType)
		if err != nil {
			t.Errorf("upstream: %v", err)
			return
		}
		pr := NewPartReader(r.Body, mt.Boundary, PartLimits{})
		for {
			p, err := pr.Next()
			if err != nil {
				break
			}
			data, _ := io.ReadAll(p.Body)
			gotParts = append(gotParts, string(data))
			if len(gotParts) == 1 {
				close(firstSeen)
			}
		}
		w.Header().Set("Content-Type", "application/dicom+json")
		w.Write(readTestdata(t, "orthanc-stow-200.json"))
	}, ClientOptions{})

	pr, pw := io.Pipe()
	sw := NewStowWriter(pw)
	go func() {
		w, _ := sw.CreatePart()
		io.WriteString(w, "part one")
		// Start the second part, so that the first one's end is sent.
		w, _ = sw.CreatePart()
		select {
		case <-firstSeen:
		case <-time.After(10 * time.Second):
			pw.CloseWithError(errors.New("upstream never saw the first part"))
			return
		}
		io.WriteString(w, "part two")
		pw.CloseWithError(sw.Close())
	}()

	_, status, err := c.Store(context.Background(), "", sw.ContentType(), pr)
	if err != nil || status != 200 {
		t.Fatalf("Store() = %d, %v, want 200", status, err)
	}
	if diff := cmp.Diff([]string{"part one", "part two"}, gotParts); diff != "" {
		t.Errorf("parts mismatch (-want +got):\n%s", diff)
	}
	if gotLength != -1 {
		t.Errorf("upstream ContentLength = %d, want -1 (chunked)", gotLength)
	}
}

// TestStoreBodyError checks that a failing request body is reported as
// such, not as an unreachable upstream.
func TestStoreBodyError(t *testing.T) {
	c, _ := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusBadRequest)
	}, ClientOptions{})
	body := io.MultiReader(strings.NewReader("--b\r\n\r\nhalf a part"),
		&errReader{err: ErrTruncated})
	_, _, err := c.Store(context.Background(), "", `multipart/related; type="application/dicom"; boundary=b`, body)
	if !errors.Is(err, ErrTruncated) || errors.Is(err, ErrUpstreamUnreachable) {
		t.Errorf("Store() with a failing body = %v, want %v only", err, ErrTruncated)
	}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func TestPingAndSearch(t *testing.T) {
	var gotQuery string
	c, _ := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		if r.URL.Path == "/dicom-web/studies" && strings.HasPrefix(gotQuery, "limit") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, `[{"00081030":{"vr":"LO","Value":["XR C Spine"]}}]`)
	}, ClientOptions{})

	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("Ping() = %v", err)
	}
	q := RepairQuery("includefield=00081030%2C00080060")
	dss, err := c.Search(context.Background(), "studies/1.2.3/series", q)
	if err != nil {
		t.Fatalf("Search() = %v", err)
	}
	if gotQuery != "includefield=00081030&includefield=00080060" {
		t.Errorf("upstream query = %q", gotQuery)
	}
	if len(dss) != 1 || dss[0].String("00081030") != "XR C Spine" {
		t.Errorf("Search() = %v", dss)
	}
	for _, bad := range []string{"../tools", "studies/../../system", "studies/%2e%2e", ""} {
		if _, err := c.Search(context.Background(), bad, ""); err == nil {
			t.Errorf("Search(%q) succeeded, want an error", bad)
		}
	}
}

func TestOrthancSetMetadata(t *testing.T) {
	const orthancID = "4a9e5ba6-3c3a41b8-08c9e8b4-7b1d4b6a-0c5a3d21"
	for _, prefix := range []string{"", "/orthanc"} {
		t.Run("prefix "+prefix, func(t *testing.T) {
			meta := map[string]string{}
			c, _ := fakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				path := strings.TrimPrefix(r.URL.Path, prefix)
				switch {
				case r.Method == http.MethodPost && path == "/tools/lookup":
					if string(body) == ctSOP1 {
						io.WriteString(w, `[{"ID":"`+orthancID+`","Path":"/instances/`+orthancID+
							`","Type":"Instance"}]`)
						return
					}
					if string(body) == ctSeriesUID {
						io.WriteString(w, `[{"ID":"abc","Type":"Series"}]`)
						return
					}
					io.WriteString(w, "[]")
				case strings.HasPrefix(path, "/instances/"+orthancID+"/metadata/"):
					name := strings.TrimPrefix(path, "/instances/"+orthancID+"/metadata/")
					if r.Method == http.MethodPut {
						meta[name] = string(body)
						io.WriteString(w, "{}")
						return
					}
					v, ok := meta[name]
					if !ok {
						http.NotFound(w, r)
						return
					}
					io.WriteString(w, v)
				default:
					t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
					http.NotFound(w, r)
				}
			}, ClientOptions{})
			if prefix != "" {
				root := *c.Base
				root.Path = prefix
				c.OrthancRoot = &root
			}

			ctx := context.Background()
			if err := c.OrthancSetMetadata(ctx, ctSOP1, "QCDecision", "accepted"); err != nil {
				t.Fatalf("OrthancSetMetadata() = %v", err)
			}
			if meta["QCDecision"] != "accepted" {
				t.Errorf("upstream metadata = %v, want QCDecision=accepted", meta)
			}
			got, err := c.OrthancMetadata(ctx, ctSOP1, "QCDecision")
			if err != nil || got != "accepted" {
				t.Errorf("OrthancMetadata() = %q, %v, want accepted", got, err)
			}
			if _, err := c.OrthancMetadata(ctx, ctSOP1, "QCReport"); !errors.Is(err, ErrNotFound) {
				t.Errorf("OrthancMetadata() of unset metadata = %v, want %v", err, ErrNotFound)
			}
			err = c.OrthancSetMetadata(ctx, "1.2.999", "QCDecision", "x")
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("OrthancSetMetadata() of an unknown instance = %v, want %v", err,
					ErrNotFound)
			}
			err = c.OrthancSetMetadata(ctx, ctSeriesUID, "QCDecision", "x")
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("OrthancSetMetadata() of a series UID = %v, want %v", err, ErrNotFound)
			}
			if err := c.OrthancSetMetadata(ctx, ctSOP1, "../../system", "x"); err == nil {
				t.Errorf("OrthancSetMetadata() with a path as name succeeded")
			}
		})
	}
}
