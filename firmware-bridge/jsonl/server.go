package jsonl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
)

// MaxCommandLine is the longest command line read; longer ones are answered
// with an error and skipped.
const MaxCommandLine = 64 << 10

// ErrNoMapping answers a prediction when no mapping was configured.
var ErrNoMapping = errors.New("jsonl: no mapping configured (--mapping)")

// Server runs command lines against a bridge and writes the answers.
type Server struct {
	// Commander runs LED and relay commands (the *bridge.Bridge).
	Commander bridge.Commander
	// Mapper applies predictions; nil answers them with ErrNoMapping.
	Mapper *bridge.PredictionMapper
	// Stats reports the counters for the stats command; nil refuses it.
	Stats func() bridge.Stats
	// Out receives the answers.
	Out *Writer
}

// Serve runs every line of r until r ends (it returns nil) or ctx ends (its
// error). Blank lines are skipped. Reading r may outlive ctx: a caller that
// cannot close r runs Serve in its own goroutine and does not wait for it.
func (s *Server) Serve(ctx context.Context, r io.Reader) error {
	br := bufio.NewReaderSize(r, 4096)
	for {
		line, err := readLine(br)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if line = bytes.TrimSpace(line); len(line) > 0 || errors.Is(err, errLineTooLong) {
			s.Do(ctx, line, err)
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("jsonl: read commands: %w", err)
		}
	}
}

var errLineTooLong = fmt.Errorf("%w: line longer than %d bytes", ErrBadCommand, MaxCommandLine)

// readLine reads one line without its end; a line over MaxCommandLine is
// consumed and reported as errLineTooLong.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, isPrefix, err := br.ReadLine()
		if err != nil {
			if len(line) > 0 && errors.Is(err, io.EOF) {
				return line, nil
			}
			return line, err
		}
		if len(line)+len(part) > MaxCommandLine {
			for isPrefix && err == nil {
				_, isPrefix, err = br.ReadLine()
			}
			return nil, errLineTooLong
		}
		line = append(line, part...)
		if !isPrefix {
			return line, nil
		}
	}
}

// Do runs one command line (readErr, when set, is why the line could not be
// read) and writes its answer.
func (s *Server) Do(ctx context.Context, line []byte, readErr error) {
	if readErr != nil {
		s.Out.WriteResult(ResultLine{Error: readErr.Error()})
		return
	}
	c, err := ParseCommand(line)
	res := ResultLine{Request: c.Request, Cmd: c.Cmd}
	if err == nil {
		if c.Cmd == CmdStats && s.Stats != nil {
			s.Out.WriteStats(c.Request, s.Stats())
			return
		}
		res.Changed, err = s.run(ctx, c)
	}
	res.OK = err == nil
	if err != nil {
		res.Error = err.Error()
	}
	s.Out.WriteResult(res)
}

// run carries out a parsed command.
func (s *Server) run(ctx context.Context, c Command) (changed bool, err error) {
	switch c.Cmd {
	case CmdLED:
		led, err := c.LED()
		if err != nil {
			return false, err
		}
		return false, s.Commander.SetLED(ctx, led)
	case CmdRelay:
		return false, s.Commander.SetRelay(ctx, c.Relay())
	case CmdPrediction:
		if s.Mapper == nil {
			return false, ErrNoMapping
		}
		return s.Mapper.Apply(ctx, c.Label, *c.Score)
	case CmdStats:
		return false, fmt.Errorf("%w: stats are not available", ErrBadCommand)
	}
	return false, fmt.Errorf("%w: unknown cmd %q", ErrBadCommand, c.Cmd)
}
