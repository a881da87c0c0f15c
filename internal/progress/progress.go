// Package progress reports the progress of long work: a redrawn bar with
// rate and ETA on a terminal, periodic log lines otherwise (CI, pipes, files).
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar reports progress towards a total. It is safe for concurrent use.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	log      *slog.Logger
	label    string
	unit     string
	total    int
	start    time.Time
	last     time.Time
	logEvery time.Duration
	drawn    bool
	now      func() time.Time
}

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// New returns a bar for total units of work. On a terminal f it draws a bar;
// otherwise it logs a line to log every logEvery (10 s when 0).
func New(f *os.File, log *slog.Logger, label, unit string, total int, logEvery time.Duration) *Bar {
	if logEvery <= 0 {
		logEvery = 10 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	now := time.Now()
	return &Bar{w: f, tty: IsTerminal(f), log: log, label: label, unit: unit, total: total,
		start: now, last: now, logEvery: logEvery, now: time.Now}
}

// Update reports done units and an optional note (e.g. "loss 1.23").
func (b *Bar) Update(done int, note string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.tty {
		if now.Sub(b.last) < 100*time.Millisecond && done < b.total {
			return
		}
		b.last = now
		fmt.Fprintf(b.w, "\r\033[K%s", b.line(done, note, now))
		b.drawn = true
		return
	}
	if now.Sub(b.last) < b.logEvery && done < b.total {
		return
	}
	b.last = now
	b.log.Info(b.label, "done", done, "total", b.total, "rate", fmt.Sprintf("%.1f %s/s", b.rate(done, now), b.unit), "eta", b.eta(done, now).String(), "note", note)
}

// Done finishes the bar (a newline on a terminal, a final log line otherwise).
func (b *Bar) Done(done int, note string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s\n", b.line(done, note, now))
		return
	}
	b.log.Info(b.label+" done", "done", done, "seconds", fmt.Sprintf("%.1f", now.Sub(b.start).Seconds()), "rate", fmt.Sprintf("%.1f %s/s", b.rate(done, now), b.unit), "note", note)
}

func (b *Bar) rate(done int, now time.Time) float64 {
	s := now.Sub(b.start).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(done) / s
}

func (b *Bar) eta(done int, now time.Time) time.Duration {
	r := b.rate(done, now)
	if r <= 0 || done >= b.total {
		return 0
	}
	return time.Duration(float64(b.total-done) / r * float64(time.Second)).Round(time.Second)
}

// line renders "label [#####.....]  42% 120/300 12.3 img/s ETA 15s note".
func (b *Bar) line(done int, note string, now time.Time) string {
	const width = 30
	frac := 0.0
	if b.total > 0 {
		frac = min(1, float64(done)/float64(b.total))
	}
	fill := int(frac * width)
	bar := strings.Repeat("#", fill) + strings.Repeat(".", width-fill)
	s := fmt.Sprintf("%s [%s] %3.0f%% %d/%d %.1f %s/s ETA %s", b.label, bar, frac*100, done, b.total, b.rate(done, now), b.unit, b.eta(done, now))
	if note != "" {
		s += " " + note
	}
	return s
}

// Lazy returns a progress callback for work whose total is known only once it
// starts (such as data.Options.Progress): the bar is created on the first
// report. finish closes the bar, if one was started.
func Lazy(f *os.File, log *slog.Logger, label, unit string) (update func(done, total int), finish func(done int)) {
	var bar *Bar
	update = func(done, total int) {
		if bar == nil {
			bar = New(f, log, label, unit, total, 0)
		}
		bar.Update(done, "")
	}
	finish = func(done int) {
		if bar != nil {
			bar.Done(done, "")
		}
	}
	return update, finish
}
