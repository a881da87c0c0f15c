package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
)

// The simulated board's wiring: two buttons that label what the last
// trigger captured, and one LED per button's class that lights when the
// probe predicts it.
var (
	boardClasses = [2]string{"cat", "dog"}
	boardButtons = map[string]string{"0": boardClasses[0], "1": boardClasses[1]}
	boardLEDs    = map[string]int{boardClasses[0]: 0, boardClasses[1]: 1}
)

// simBoard is the firmware board simulator on a pseudo-terminal, as a USB
// serial board would appear; the daemon's bridge opens the terminal side.
type simBoard struct {
	b      *simulator.Board
	host   *os.File // the terminal side: kept open like a device node
	cancel context.CancelFunc
	done   chan error
}

// startBoard opens a pseudo-terminal pair and runs the simulator on it.
func startBoard(ctx context.Context) (*simBoard, error) {
	boardEnd, host, err := simulator.OpenPTY()
	if err != nil {
		return nil, fmt.Errorf("simulated board: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &simBoard{host: host, cancel: cancel, done: make(chan error, 1),
		b: simulator.New(boardEnd, simulator.Config{DeviceID: "demo-board", LEDs: 2, Relays: 0, HeartbeatInterval: 500 * time.Millisecond})}
	go func() { s.done <- s.b.Run(ctx) }()
	return s, nil
}

// port is the path the daemon opens.
func (s *simBoard) port() string { return s.host.Name() }

// stop ends the simulator.
func (s *simBoard) stop() {
	s.cancel()
	<-s.done
	s.host.Close()
}

// boardSession plays a person at the camera box: for a few camera images of
// the buttons' two classes, the board's UART camera sends the frame, the
// PIR fires a trigger (the daemon stores the frame and publishes
// events/trigger) and someone presses the button of its class (the daemon
// labels the stored frame). It returns how many triggers were labelled.
func (d *demo) boardSession(ctx context.Context, dm *daemon, sb *simBoard, set *imageSet) (int, error) {
	labelled := 0
	for _, img := range set.camera {
		button := -1
		for i, c := range boardClasses {
			if img.class == c {
				button = i
			}
		}
		if button < 0 || labelled >= 6 {
			continue
		}
		before := len(dm.dash.eventsOf("events/trigger"))
		if _, err := sb.b.SendJPEG(img.data); err != nil {
			return labelled, fmt.Errorf("board camera: %w", err)
		}
		time.Sleep(100 * time.Millisecond) // the frame crosses the 921600-baud line
		if err := sb.b.Trigger(ctx, 1); err != nil {
			return labelled, fmt.Errorf("board trigger: %w", err)
		}
		if err := waitFor(ctx, "events/trigger", 30*time.Second, func() bool {
			return len(dm.dash.eventsOf("events/trigger")) > before
		}); err != nil {
			return labelled, err
		}
		if err := sb.b.Press(ctx, uint8(button), protocol.PressShort); err != nil {
			return labelled, fmt.Errorf("board button: %w", err)
		}
		if err := waitFor(ctx, "the button's label", 30*time.Second, func() bool {
			for _, raw := range dm.dash.eventsOf("events/trigger")[before:] {
				var ev struct {
					Kind, Label, Error string
				}
				if json.Unmarshal(raw, &ev) == nil && ev.Kind == "button" && ev.Label == img.class && ev.Error == "" {
					return true
				}
			}
			return false
		}); err != nil {
			return labelled, err
		}
		labelled++
	}
	fmt.Fprintf(d.stdout, "board: %d triggers captured and labelled with its buttons (%v)\n", labelled, boardButtons)
	return labelled, nil
}

// boardLEDsAfter sends a held-out frame of each button class from the
// board's camera after training and reports which LEDs the probe's
// prediction lit.
func (d *demo) boardLEDsAfter(ctx context.Context, sb *simBoard, set *imageSet) []string {
	var out []string
	for _, c := range boardClasses {
		for _, img := range set.eval {
			if img.class != c {
				continue
			}
			if _, err := sb.b.SendJPEG(img.data); err != nil {
				out = append(out, fmt.Sprintf("a %s frame: %v", c, err))
				break
			}
			select {
			case <-ctx.Done():
				return out
			case <-time.After(time.Second): // frame, pipeline, prediction, LED command
			}
			lit := "no LED (predicted another class)"
			for id, name := range boardClasses {
				if l, ok := sb.b.LED(uint8(id)); ok && l.Mode == protocol.LEDOn {
					lit = fmt.Sprintf("LED %d (%s) on", id, name)
				}
			}
			out = append(out, fmt.Sprintf("a %s frame from the board's camera -> %s", c, lit))
			break
		}
	}
	return out
}
