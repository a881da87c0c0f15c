package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// maxBoundaryPeek bounds how far into the body the first boundary line is
// looked for.
const maxBoundaryPeek = 1024

// mjpegOnce connects to the stream and emits its parts until it breaks,
// ends or stalls.
func (s *src) mjpegOnce(ctx context.Context) (outcome, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stalled atomic.Bool
	stall := s.h.opts.stall
	watchdog := time.AfterFunc(stall, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()

	url := s.cfg.URL
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return retry, fmt.Errorf("mjpeg %s: %w", url, err)
	}
	resp, err := s.h.opts.client.Do(req)
	if err != nil {
		if stalled.Load() {
			return retry, fmt.Errorf("mjpeg %s: no response for %s", url, stall)
		}
		return retry, fmt.Errorf("mjpeg: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return retry, fmt.Errorf("mjpeg GET %s: %s", url, resp.Status)
	}
	ct := resp.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return retry, fmt.Errorf("mjpeg GET %s: content type %q, want multipart/x-mixed-replace", url, ct)
	}
	s.setState(StateRunning)
	n, err := readParts(resp.Body, params["boundary"], s.h.opts.maxPartBytes, func(b []byte) {
		watchdog.Reset(stall)
		s.emit(Frame{Image: b})
	})
	switch {
	case ctx.Err() != nil:
		return retry, nil
	case stalled.Load():
		return retry, fmt.Errorf("mjpeg %s: no frame for %s after %d frames", url, stall, n)
	case err == nil:
		return retry, fmt.Errorf("mjpeg %s: the server ended the stream after %d frames", url, n)
	}
	return retry, fmt.Errorf("mjpeg %s: after %d frames: %w", url, n, err)
}

// readParts reads a multipart body and calls emit with each non-empty
// part's bytes, in order, until the closing boundary (nil error) or a
// failure. Parts need no Content-Length; a part over limit bytes is an
// error wrapping ErrTooLarge. The boundary is taken from the body's first
// boundary line when declared does not match it (or is empty). It returns
// the number of parts emitted.
func readParts(r io.Reader, declared string, limit int64, emit func([]byte)) (int, error) {
	br := bufio.NewReaderSize(r, 4096)
	boundary := detectBoundary(br, declared)
	if boundary == "" {
		return 0, errors.New("multipart stream without a boundary")
	}
	mr := multipart.NewReader(br, boundary)
	n := 0
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("next part: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(p, limit+1))
		if err != nil {
			return n, fmt.Errorf("read part %d: %w", n+1, err)
		}
		if int64(len(data)) > limit {
			return n, fmt.Errorf("part %d: %w of %d bytes", n+1, ErrTooLarge, limit)
		}
		if len(data) == 0 {
			continue
		}
		emit(data)
		n++
	}
}

// detectBoundary returns the boundary of the body in br: declared, unless
// the first non-blank line of the body is a boundary line "--X" with X
// different from declared (cameras that declare boundary=--X and write
// "--X", or declare none), in which case X. It only peeks; nothing is
// consumed.
func detectBoundary(br *bufio.Reader, declared string) string {
	want := 1
	for {
		b, err := br.Peek(want)
		if line, ok := firstLine(b); ok {
			if cand, isBoundary := strings.CutPrefix(line, "--"); isBoundary && cand != "" && cand != declared && cand != declared+"--" {
				return cand
			}
			return declared
		}
		if err != nil || len(b) >= maxBoundaryPeek {
			return declared
		}
		want = min(max(len(b)+1, br.Buffered()), maxBoundaryPeek)
	}
}

// firstLine returns the first non-blank line of b, without its line end
// and surrounding spaces; false when b holds no complete one yet.
func firstLine(b []byte) (string, bool) {
	b = bytes.TrimLeft(b, " \t\r\n")
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return "", false
	}
	return string(bytes.TrimSpace(b[:i])), true
}
