package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/jsonl"
)

// cmdRun runs the bridge with JSON lines on stdio until ctx ends.
func cmdRun(ctx context.Context, o *options, std stdio, log *slog.Logger) error {
	spec := bridge.PortSpec{Path: o.port, USB: o.usb}
	if err := spec.Validate(); err != nil {
		return usageError{err}
	}
	var mapping *bridge.Mapping
	if o.mapping != "" {
		var err error
		if mapping, err = bridge.LoadMapping(o.mapping); err != nil {
			return err
		}
	}
	if o.frameDir != "" {
		if fi, err := os.Stat(o.frameDir); err != nil || !fi.IsDir() {
			return usageError{fmt.Errorf("--frame-dir %s is not a directory", o.frameDir)}
		}
	}
	out := jsonl.NewWriter(std.out, jsonl.Options{Frames: o.frames, FrameDir: o.frameDir, Mapping: mapping})
	sink := &runSink{Writer: out}
	cfg := bridge.Config{
		Port:           spec,
		Baud:           o.baud,
		Heartbeat:      o.heartbeat,
		SilentAfter:    o.silentAfter,
		RecycleAfter:   o.recycleAfter,
		CommandTimeout: o.commandTimeout,
		FrameQueue:     o.frameQueue,
		HostVersion:    hostVersion,
		Logger:         log,
	}
	b, err := bridge.New(cfg, sink)
	if err != nil {
		if errors.Is(err, bridge.ErrInvalidConfig) {
			return usageError{err}
		}
		return err
	}
	srv := &jsonl.Server{Commander: b, Stats: b.Stats, Out: out}
	if mapping != nil {
		srv.Mapper = bridge.NewPredictionMapper(mapping, b)
		sink.mapper = srv.Mapper
	}
	log.Info("fwbridge run", slog.String("port", spec.String()), slog.Int("baud", o.baud),
		slog.Duration("heartbeat", o.heartbeat), slog.String("frames", o.frames.String()))

	// Stdin cannot be interrupted; the command reader ends with the process.
	go func() {
		if err := srv.Serve(ctx, std.in); err != nil && ctx.Err() == nil {
			log.Warn("reading commands stopped", slog.Any("err", err))
		}
	}()
	if o.statsEvery > 0 {
		go reportStats(ctx, o.statsEvery, out, b)
	}
	return b.Run(ctx)
}

// reportStats writes a stats line every interval until ctx ends.
func reportStats(ctx context.Context, every time.Duration, out *jsonl.Writer, b *bridge.Bridge) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			out.WriteStats("", b.Stats())
		}
	}
}

// runSink writes events as JSON lines and forgets the last prediction rule
// when a board becomes ready (it starts with its outputs off).
type runSink struct {
	*jsonl.Writer
	mapper *bridge.PredictionMapper
}

// HandleEvent writes e and resets the mapper on a ready status.
func (s *runSink) HandleEvent(ctx context.Context, e bridge.Event) {
	if st, ok := e.(bridge.Status); ok && st.State == bridge.StateReady && s.mapper != nil {
		s.mapper.Reset()
	}
	s.Writer.HandleEvent(ctx, e)
}
