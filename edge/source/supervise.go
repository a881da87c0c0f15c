package source

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// outcome is how one run of a source ended.
type outcome int

const (
	// retry: the run failed (or was stopped); start again after the
	// back-off.
	retry outcome = iota
	// again: a finite input ended normally and loops: start again at once.
	again
	// done: a finite input ended normally: the source is finished.
	done
)

// errNoFrame: a looping input ended before it delivered a frame (so
// starting it again at once would spin).
var errNoFrame = errors.New("no frame")

// attemptFunc runs a source once, until it fails, ends or ctx ends. It
// calls s.setState(StateRunning) once its input is open.
type attemptFunc func(ctx context.Context) (outcome, error)

// supervise runs attempt again and again until ctx ends or attempt reports
// done, logging and counting failures and waiting an exponential back-off
// between them. The back-off starts over after a healthy run: one that
// delivered frames for at least the healthy-run time.
func (s *src) supervise(ctx context.Context, attempt attemptFunc) {
	o := &s.h.opts
	delay := o.backoffMin
	for {
		s.setState(StateStarting)
		start, before := time.Now(), s.frames()
		out, err := attempt(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.fail(err)
		}
		switch out {
		case done:
			s.setState(StateFinished)
			s.log.Info("source finished", "frames", s.frames())
			return
		case again:
			if s.frames() > before {
				continue
			}
			s.fail(fmt.Errorf("input ended without a frame: %w", errNoFrame))
		}
		if time.Since(start) >= o.healthyRun && s.frames() > before {
			delay = o.backoffMin
		}
		wait := jitter(delay)
		s.h.mu.Lock()
		s.restarts++
		s.state = StateBackoff
		s.h.mu.Unlock()
		s.log.Info("source restarting", "in", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			return
		}
		delay = min(2*delay, o.backoffMax)
	}
}

// jitter takes up to a tenth off d at random, so that sources that failed
// together (a switch rebooted) do not retry in step.
func jitter(d time.Duration) time.Duration {
	return d - time.Duration(rand.Int64N(int64(d)/10+1))
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
