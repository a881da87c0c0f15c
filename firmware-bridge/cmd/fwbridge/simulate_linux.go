//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
)

// Sizes of the simulated board.
const (
	simLEDs   = 4
	simRelays = 2
)

// cmdSimulate plays a board on a new pseudo-terminal until ctx ends.
func cmdSimulate(ctx context.Context, o *options, std stdio, log *slog.Logger) error {
	if !o.pty {
		return usageError{errors.New("--pty is the only mode; leave it on")}
	}
	hello := protocol.Hello{Protocol: protocol.ProtocolVersion, DeviceID: o.deviceID, FirmwareVersion: o.firmware}
	if _, err := hello.MarshalBinary(); err != nil {
		return usageError{fmt.Errorf("--id/--firmware: %w", err)}
	}
	pictures, err := loadPictures(o.cameraDir)
	if err != nil {
		return err
	}
	boardEnd, host, err := simulator.OpenPTY()
	if err != nil {
		return err
	}
	// The terminal side stays open while the board runs, as a USB device
	// node does, so the bridge may close and re-open it.
	defer host.Close()
	if o.link != "" {
		if err := relink(o.link, host.Name()); err != nil {
			boardEnd.Close()
			return err
		}
		defer os.Remove(o.link)
	}
	board := simulator.New(boardEnd, simulator.Config{
		DeviceID: o.deviceID, FirmwareVersion: o.firmware, LEDs: simLEDs, Relays: simRelays,
		HeartbeatInterval: o.heartbeat, BitErrorRate: o.ber, Seed: uint64(time.Now().UnixNano()),
	})
	fmt.Fprintln(std.out, host.Name())
	log.Info("simulated board", slog.String("pty", host.Name()), slog.String("link", o.link),
		slog.String("device", o.deviceID), slog.Duration("trigger_every", o.triggerEvery),
		slog.Duration("camera_every", o.cameraEvery), slog.Float64("ber", o.ber))

	runErr := make(chan error, 1)
	go func() { runErr <- board.Run(ctx) }()
	var wg sync.WaitGroup
	sim := &simulation{board: board, log: log, pictures: pictures}
	for id := range sim.leds {
		sim.leds[id].ID = uint8(id) // as after boot: off
	}
	sim.schedule(ctx, &wg, o.triggerEvery, sim.trigger)
	sim.schedule(ctx, &wg, o.buttonEvery, sim.press)
	sim.schedule(ctx, &wg, o.cameraEvery, sim.camera)
	sim.schedule(ctx, &wg, o.garbageEvery, sim.garbage)
	sim.schedule(ctx, &wg, 50*time.Millisecond, sim.watchOutputs)
	err = <-runErr
	wg.Wait()
	if errors.Is(err, context.Canceled) {
		s := board.Stats()
		log.Info("simulated board stopped", slog.Int("commands", s.Commands), slog.Int("retries", s.Retries),
			slog.Uint64("bad_frames", s.Decoder.Dropped()))
		return nil
	}
	return err
}

// simulation runs the board's scheduled activity.
type simulation struct {
	board    *simulator.Board
	log      *slog.Logger
	pictures [][]byte // nil: generated

	// owned by the watchOutputs goroutine
	leds   [simLEDs]protocol.SetLED
	relays [simRelays]bool
}

// schedule calls fn(ctx, i) every interval (never when it is 0) until ctx
// ends.
func (s *simulation) schedule(ctx context.Context, wg *sync.WaitGroup, every time.Duration, fn func(context.Context, int)) {
	if every <= 0 {
		return
	}
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx, i)
			}
		}
	})
}

func (s *simulation) trigger(ctx context.Context, _ int) {
	if err := s.board.Trigger(ctx, 0); err != nil && ctx.Err() == nil {
		s.log.Warn("trigger not ACKed", slog.Any("err", err))
		return
	}
	s.log.Debug("trigger ACKed")
}

func (s *simulation) press(ctx context.Context, i int) {
	presses := []struct {
		id   uint8
		kind protocol.PressKind
	}{{0, protocol.PressShort}, {1, protocol.PressShort}, {0, protocol.PressLong}}
	p := presses[i%len(presses)]
	if err := s.board.Press(ctx, p.id, p.kind); err != nil && ctx.Err() == nil {
		s.log.Warn("button press not ACKed", slog.Any("err", err))
		return
	}
	s.log.Debug("button press ACKed", slog.Int("button", int(p.id)), slog.String("press", p.kind.String()))
}

func (s *simulation) camera(_ context.Context, i int) {
	var pic []byte
	if len(s.pictures) > 0 {
		pic = s.pictures[i%len(s.pictures)]
	} else {
		var err error
		if pic, err = generatePicture(i); err != nil {
			s.log.Error("generate picture", slog.Any("err", err))
			return
		}
	}
	id, err := s.board.SendJPEG(pic)
	if err != nil {
		s.log.Warn("camera frame", slog.Any("err", err))
		return
	}
	s.log.Debug("camera frame sent", slog.Int("frame", int(id)), slog.Int("bytes", len(pic)))
}

func (s *simulation) garbage(_ context.Context, i int) {
	rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
	noise := make([]byte, 64)
	for j := range noise {
		noise[j] = byte(rng.UintN(256))
	}
	if err := s.board.InjectNoise(noise); err != nil {
		s.log.Warn("noise", slog.Any("err", err))
	}
}

// watchOutputs logs the board's LEDs and relays when the host changes them.
func (s *simulation) watchOutputs(context.Context, int) {
	for id := range simLEDs {
		l, _ := s.board.LED(uint8(id))
		if l != s.leds[id] {
			s.leds[id] = l
			s.log.Info("LED set", slog.Int("led", id), slog.String("mode", l.Mode.String()),
				slog.Int("brightness", int(l.Brightness)), slog.Int("on_ms", int(l.OnMS)), slog.Int("off_ms", int(l.OffMS)))
		}
	}
	for id := range simRelays {
		on, _ := s.board.Relay(uint8(id))
		if on != s.relays[id] {
			s.relays[id] = on
			s.log.Info("relay switched", slog.Int("relay", id), slog.Bool("on", on))
		}
	}
}

// loadPictures reads the .jpg and .jpeg files of dir, sorted by name; an
// empty dir means none.
func loadPictures(dir string) ([][]byte, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, usageError{fmt.Errorf("--camera-dir: %w", err)}
	}
	var names []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".jpg" || ext == ".jpeg") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, usageError{fmt.Errorf("--camera-dir %s has no .jpg files", dir)}
	}
	pics := make([][]byte, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("camera picture: %w", err)
		}
		if len(b) == 0 || len(b) > protocol.DefaultMaxFrameBytes {
			return nil, usageError{fmt.Errorf("camera picture %s has %d bytes, want 1..%d", n, len(b), protocol.DefaultMaxFrameBytes)}
		}
		pics = append(pics, b)
	}
	return pics, nil
}

// generatePicture draws frame i of a test pattern: a gradient with a bar
// that moves from frame to frame, 320×240, about 10 KB as JPEG.
func generatePicture(i int) ([]byte, error) {
	const w, h = 320, 240
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bar := (i * 16) % w
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8(i * 7), 255}
			if x >= bar && x < bar+24 {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encode test picture: %w", err)
	}
	return buf.Bytes(), nil
}

// relink makes path a symlink to target, replacing an old link atomically.
// It refuses to replace anything but a symlink.
func relink(path, target string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink == 0 {
		return usageError{fmt.Errorf("--link %s exists and is not a symlink", path)}
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("--link: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("--link: %w", err)
	}
	return nil
}
