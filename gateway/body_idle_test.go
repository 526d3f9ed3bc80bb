package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSTOWBodyIdleTimeout(t *testing.T) {
	body := multipartBody(dicomPart(t, liverCTFile1))
	tests := []struct {
		name string
		// chunks is how many pieces the body is sent in, pause the time
		// between them; stallAfter stops sending after that many bytes
		// (0: send it all).
		chunks     int
		pause      time.Duration
		stallAfter int
		want       int
	}{
		// 100 KB, then nothing: cut off after the 300ms idle timeout.
		{"stalled body", 1, 0, 100_000, http.StatusRequestTimeout},
		// 20 pieces 100ms apart: 2s in all, never 300ms without a byte.
		{"slow body that keeps moving", 20, 100 * time.Millisecond, 0, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			g := newTestGateway(t, up.dicomWebURL(), func(c *Config) {
				c.BodyIdleTimeout = 300 * time.Millisecond
			})
			conn, err := net.Dial("tcp", g.ts.Listener.Addr().String())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /dicom-web/studies HTTP/1.1\r\nHost: gw\r\n"+
				"Content-Type: %s\r\nContent-Length: %d\r\n\r\n", stowContentType, len(body))
			send := body
			if tt.stallAfter > 0 {
				send = body[:tt.stallAfter]
			}
			step := (len(send) + tt.chunks - 1) / tt.chunks
			for i := 0; i < len(send); i += step {
				time.Sleep(tt.pause)
				if _, err := conn.Write(send[i:min(i+step, len(send))]); err != nil {
					t.Fatalf("writing body: %v", err)
				}
			}

			start := time.Now()
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading answer: %v", err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Fatalf("STOW = %d, want %d; body %.300s", res.StatusCode, tt.want, b)
			}
			if tt.want != http.StatusRequestTimeout {
				return
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("408 came %v after the stall, want about 300ms", d)
			}
			checkWarnings(t, res.Header.Values("Warning"), []string{"stalled"})
			recs := g.log.records(t, "request")
			if len(recs) != 1 || recs[0]["status"] != float64(http.StatusRequestTimeout) {
				t.Errorf("access records = %v, want one with status 408", recs)
			}
			if held := up.storedUIDs(); len(held) != 0 {
				t.Errorf("upstream holds %v after a stalled request, want nothing", held)
			}
		})
	}
}

func TestBodyIdleTimeoutOff(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), func(c *Config) { c.BodyIdleTimeout = 0 })
	body := multipartBody(dicomPart(t, liverCTFile1))
	// A 500ms pause is harmless when the timeout is off.
	pr, pw := io.Pipe()
	go func() {
		pw.Write(body[:1000])
		time.Sleep(500 * time.Millisecond)
		pw.Write(body[1000:])
		pw.Close()
	}()
	res, b := g.do(t, http.MethodPost, "/dicom-web/studies",
		http.Header{"Content-Type": {stowContentType}}, pr)
	if res.StatusCode != http.StatusOK || strings.Contains(string(b), "stalled") {
		t.Errorf("STOW with a pause and no idle timeout = %d, want 200; %.200s",
			res.StatusCode, b)
	}
}
