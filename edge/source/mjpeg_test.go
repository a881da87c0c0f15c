package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
)

// mjpegServer streams the JPEGs as multipart/x-mixed-replace, one part
// every 10 ms. Each connection sends perConn whole parts, then half of the
// next and drops the connection. Every other part has no Content-Length.
func mjpegServer(t *testing.T, jpegs [][]byte, perConn int) (*httptest.Server, *atomic.Int64) {
	var conns atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := int(conns.Add(1))
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary=frame")
		fl := w.(http.Flusher)
		for i := 0; ; i++ {
			img := jpegs[(c*perConn+i)%len(jpegs)]
			fmt.Fprintf(w, "--frame\r\nContent-Type: image/jpeg\r\n")
			if i%2 == 0 {
				fmt.Fprintf(w, "Content-Length: %d\r\n", len(img))
			}
			fmt.Fprintf(w, "\r\n")
			if i == perConn {
				w.Write(img[:len(img)/2])
				fl.Flush()
				panic(http.ErrAbortHandler) // drop the connection mid-part
			}
			w.Write(img)
			fmt.Fprintf(w, "\r\n")
			fl.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestMJPEGReconnects(t *testing.T) {
	var jpegs [][]byte
	for _, f := range cifar(t, 6) {
		jpegs = append(jpegs, f.Data)
	}
	srv, conns := mjpegServer(t, jpegs, 4)
	h := startHub(t, []config.Source{{Name: "ipcam", Kind: KindMJPEG, URL: srv.URL + "/video", Buffer: 20}})
	isJPEG := func(b []byte) bool {
		for _, j := range jpegs {
			if bytes.Equal(b, j) {
				return true
			}
		}
		return false
	}
	for i := range 10 {
		f := next(t, h.Hub, 5*time.Second)
		if !isJPEG(f.Image) || f.RGB != nil || f.Source != "ipcam" {
			t.Fatalf("frame %d: %d bytes, not one of the JPEGs sent", i, len(f.Image))
		}
	}
	waitFor(t, 3*time.Second, "a third connection", func() bool { return conns.Load() >= 3 })
	st := stats(t, h.Hub, "ipcam")
	if st.Restarts < 2 || st.Errors < 2 || !strings.Contains(st.LastError, "after 4 frames") {
		t.Errorf("stats %+v: want a restart per dropped connection, after 4 frames each", st)
	}
	t.Logf("last error: %s", st.LastError)
}

func TestMJPEGBadResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html></html>")
		case "/silent":
			w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary=x")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	t.Cleanup(srv.Close)
	h := startHub(t, []config.Source{
		{Name: "missing", Kind: KindMJPEG, URL: srv.URL + "/missing"},
		{Name: "html", Kind: KindMJPEG, URL: srv.URL + "/html"},
		{Name: "silent", Kind: KindMJPEG, URL: srv.URL + "/silent"},
	}, WithStallTimeout(100*time.Millisecond))
	want := map[string]string{"missing": "404 Not Found", "html": `content type "text/html"`, "silent": "no frame for 100ms"}
	waitFor(t, 5*time.Second, "restarts", func() bool {
		for _, s := range h.Stats() {
			if s.Restarts < 2 {
				return false
			}
		}
		return true
	})
	for _, s := range h.Stats() {
		if !strings.Contains(s.LastError, want[s.Name]) {
			t.Errorf("%s: last error %q lacks %q", s.Name, s.LastError, want[s.Name])
		}
	}
}

// multipartBody writes parts with mime/multipart's writer.
func multipartBody(t testing.TB, boundary string, parts ...[]byte) []byte {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(boundary); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		w, err := mw.CreatePart(map[string][]string{"Content-Type": {"image/jpeg"}})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p)
	}
	mw.Close()
	return buf.Bytes()
}

func TestReadParts(t *testing.T) {
	body := multipartBody(t, "b0undary", []byte("one"), nil, []byte("three\r\n--not-a-boundary"))
	var got []string
	collect := func(b []byte) { got = append(got, string(b)) }
	for _, declared := range []string{"b0undary", "--b0undary", ""} {
		got = nil
		n, err := readParts(bytes.NewReader(body), declared, 100, collect)
		if err != nil || n != 2 || strings.Join(got, "|") != "one|three\r\n--not-a-boundary" {
			t.Errorf("declared %q: %d parts %q, %v", declared, n, got, err)
		}
	}
	_, err := readParts(bytes.NewReader(body), "b0undary", 4, collect)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("part over the limit: %v", err)
	}
	_, err = readParts(bytes.NewReader(body[:len(body)-20]), "b0undary", 100, collect)
	if err == nil {
		t.Error("a truncated stream gave no error")
	}
	if _, err := readParts(strings.NewReader("no boundary here\r\n"), "", 100, collect); err == nil {
		t.Error("a stream without a boundary gave no error")
	}
	// Leading blank lines and a boundary line without its declared dashes.
	got = nil
	raw := "\r\n\r\n--cam\r\nContent-Type: image/jpeg\r\n\r\nJPEG\r\n--cam\r\n\r\nJPEG2\r\n--cam--\r\n"
	if n, err := readParts(strings.NewReader(raw), "--cam", 100, collect); err != nil || n != 2 || got[1] != "JPEG2" {
		t.Errorf("camera quirks: %d %q %v", n, got, err)
	}
}

func TestDetectBoundaryDoesNotOverread(t *testing.T) {
	// The first line arrives alone; detection must not wait for more.
	pr, pw := io.Pipe()
	go pw.Write([]byte("--abc\r\n"))
	done := make(chan string, 1)
	go func() { done <- detectBoundary(bufio.NewReader(pr), "") }()
	select {
	case b := <-done:
		if b != "abc" {
			t.Errorf("boundary %q", b)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("detectBoundary blocked on a short first line")
	}
	pw.Close()
}

func FuzzReadParts(f *testing.F) {
	f.Add(multipartBody(f, "frame", []byte("\xff\xd8jpeg\xff\xd9"), []byte("x")), "frame", []byte("a"), []byte("b"))
	f.Add([]byte("--x\r\n\r\n\r\n--x--"), "x", []byte{}, []byte("--x"))
	f.Add([]byte("\n\n--y\nContent-Length: 3\n\nabc\n--y\n"), "--y", []byte("\r\n--y"), []byte("yy"))
	f.Add([]byte("garbage"), "", []byte("c"), []byte("d"))
	const limit = 64
	f.Fuzz(func(t *testing.T, raw []byte, boundary string, a, b []byte) {
		// Any input: no panic, every part bounded and non-empty, the count
		// right.
		emitted := 0
		n, _ := readParts(bytes.NewReader(raw), boundary, limit, func(p []byte) {
			if len(p) == 0 || len(p) > limit {
				t.Fatalf("part of %d bytes", len(p))
			}
			emitted++
		})
		if n != emitted {
			t.Fatalf("returned %d, emitted %d", n, emitted)
		}
		// What mime/multipart writes is read back part for part.
		if len(a) == 0 || len(b) == 0 || len(a) > limit || len(b) > limit {
			return
		}
		body := multipartBody(t, "fuzzboundary0123", a, b)
		var got [][]byte
		n, err := readParts(bytes.NewReader(body), "fuzzboundary0123", limit, func(p []byte) { got = append(got, p) })
		if err != nil || n != 2 || !bytes.Equal(got[0], a) || !bytes.Equal(got[1], b) {
			t.Fatalf("round trip of %q, %q: %d parts %q, %v", a, b, n, got, err)
		}
	})
}
