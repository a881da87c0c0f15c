package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
)

// rawCommand is a subprocess that writes packed RGB24 frames of the
// source's size to its standard output.
type rawCommand struct {
	// bin is the program, args its arguments (without bin).
	bin  string
	args []string
	// finite is true when the input ends (a file): a normal exit then ends
	// the source, or starts it again at once when it loops.
	finite bool
	// hint says how to install bin.
	hint string
}

// Install hints for a missing binary.
const (
	ffmpegHint    = "install ffmpeg (Debian, Ubuntu, JetPack: apt install ffmpeg) or set the source's command to its path"
	gstreamerHint = "install GStreamer's tools and plugins (Debian, Ubuntu: apt install gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good; JetPack ships them) or set the source's command to its path"
)

// ffmpegCommand builds the ffmpeg command line of a source:
//
//	ffmpeg -hide_banner -loglevel error -nostdin [args...] [-re [-stream_loop -1]] -i INPUT
//	       -an -vf scale=W:H -pix_fmt rgb24 -f rawvideo pipe:1
//
// A regular file is read at its native frame rate (-re), like a camera, and
// loops inside ffmpeg (-stream_loop -1) when loop is set; devices and
// network streams are live already.
func ffmpegCommand(c config.Source) (rawCommand, error) {
	st, err := os.Stat(c.Input)
	file := err == nil && st.Mode().IsRegular()
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin"}
	args = append(args, c.Args...)
	if file {
		args = append(args, "-re")
		if c.Loop {
			args = append(args, "-stream_loop", "-1")
		}
	}
	args = append(args, "-i", c.Input,
		"-an", "-vf", fmt.Sprintf("scale=%d:%d", c.Width, c.Height),
		"-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1")
	return rawCommand{bin: c.Command, args: args, finite: file && !c.Loop, hint: ffmpegHint}, nil
}

// gstreamerCommand builds the gst-launch-1.0 command line of a source:
//
//	gst-launch-1.0 -q PIPELINE ! videoconvert ! videoscale !
//	    video/x-raw,format=RGB,width=W,height=H ! fdsink fd=1
//
// with the pipeline split into arguments as a shell would (whitespace,
// quotes and backslashes; gst-launch joins them again). -q keeps
// gst-launch's messages off the standard output, which carries the frames.
// A pipeline that starts with filesrc or multifilesrc, or names a file://
// URI, is finite: it is started again at its end when loop is set.
func gstreamerCommand(c config.Source) (rawCommand, error) {
	parts, err := splitPipeline(c.Pipeline)
	if err != nil {
		return rawCommand{}, fmt.Errorf("pipeline: %w", err)
	}
	if len(parts) == 0 {
		return rawCommand{}, errors.New("kind gstreamer needs a pipeline")
	}
	if parts[len(parts)-1] == "!" {
		return rawCommand{}, fmt.Errorf("pipeline %q ends in '!': give it up to, not including, the link to the sink", c.Pipeline)
	}
	finite := parts[0] == "filesrc" || parts[0] == "multifilesrc"
	for _, p := range parts {
		if strings.HasPrefix(p, "uri=file:") {
			finite = true
		}
	}
	args := append([]string{"-q"}, parts...)
	args = append(args, "!", "videoconvert", "!", "videoscale", "!",
		fmt.Sprintf("video/x-raw,format=RGB,width=%d,height=%d", c.Width, c.Height),
		"!", "fdsink", "fd=1")
	return rawCommand{bin: c.Command, args: args, finite: finite, hint: gstreamerHint}, nil
}

// splitPipeline splits s at unquoted whitespace. Single quotes keep
// everything up to the next single quote; double quotes keep everything up
// to the next unescaped double quote; a backslash outside single quotes
// keeps the next character as it is.
func splitPipeline(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	switch {
	case escaped:
		return nil, fmt.Errorf("%q ends in a backslash", s)
	case quote != 0:
		return nil, fmt.Errorf("%q has an unterminated %c quote", s, quote)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// rawOnce returns the attempt of a raw-video source whose command build
// makes: it starts the process, reads its frames until its output ends,
// and tells why it ended. The process is killed when ctx ends or when no
// frame came for the stall timeout.
func (s *src) rawOnce(build func(config.Source) (rawCommand, error)) attemptFunc {
	return func(ctx context.Context) (outcome, error) {
		rc, err := build(s.cfg)
		if err != nil {
			return retry, err
		}
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		cmd := exec.CommandContext(pctx, rc.bin, rc.args...)
		cmd.WaitDelay = 2 * time.Second // then close the pipes even if a child holds them
		stderr := &tailBuffer{limit: 2048}
		cmd.Stderr = stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return retry, fmt.Errorf("%s: %w", rc.bin, err)
		}
		if err := cmd.Start(); err != nil {
			if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
				return retry, fmt.Errorf("%s not found: %w; %s", rc.bin, err, rc.hint)
			}
			return retry, fmt.Errorf("start %s: %w", rc.bin, err)
		}
		pid := cmd.Process.Pid
		s.setPID(pid)
		defer s.setPID(0)
		s.log.Debug("process started", "pid", pid, "argv", append([]string{rc.bin}, rc.args...))
		s.setState(StateRunning)

		var stalled atomic.Bool
		stall := s.h.opts.stall
		watchdog := time.AfterFunc(stall, func() { stalled.Store(true); cancel() })
		defer watchdog.Stop()

		size := s.cfg.Width * s.cfg.Height * 3
		frames, partial := 0, 0
		var readErr error
		for {
			buf := make([]byte, size)
			n, err := io.ReadFull(stdout, buf)
			if err != nil {
				partial = n
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					readErr = err
				}
				break
			}
			watchdog.Reset(stall)
			frames++
			s.emit(Frame{RGB: buf, Width: s.cfg.Width, Height: s.cfg.Height})
		}
		watchdog.Stop()
		waitErr := cmd.Wait()
		if ctx.Err() != nil {
			return retry, nil
		}
		why := fmt.Sprintf("%s (pid %d) ", rc.bin, pid)
		switch {
		case stalled.Load():
			why += fmt.Sprintf("delivered no frame for %s and was killed", stall)
		case waitErr != nil:
			why += waitErr.Error()
		default:
			why += "exited normally"
		}
		why += fmt.Sprintf(" after %d frames", frames)
		if partial > 0 {
			why += fmt.Sprintf(" and %d bytes of a %d-byte frame", partial, size)
		}
		if readErr != nil {
			why += fmt.Sprintf("; reading its output: %v", readErr)
		}
		if tail := stderr.String(); tail != "" {
			why += "; stderr: " + tail
		}
		if waitErr == nil && !stalled.Load() && rc.finite {
			s.log.Info("input ended", "why", why)
			if s.cfg.Loop {
				return again, nil
			}
			return done, nil
		}
		return retry, errors.New(why)
	}
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	b     []byte
}

// Write keeps the tail of what the process wrote to its standard error.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.limit {
		t.b = append(t.b[:0], t.b[len(t.b)-t.limit:]...)
	}
	return len(p), nil
}

// String returns the kept text on one line, its lines joined with " | ".
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	for line := range strings.Lines(string(t.b)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, " | ")
}
