package protocol

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

const testWait = 5 * time.Second

// rawPeer is the far end of a Link driven by hand: an Encoder, and a reader
// goroutine that forwards everything the link sends.
type rawPeer struct {
	conn    net.Conn
	enc     *Encoder
	packets chan Packet
}

func newRawPeer(t *testing.T, conn net.Conn) *rawPeer {
	p := &rawPeer{conn: conn, enc: NewEncoder(conn), packets: make(chan Packet, 64)}
	dec := NewDecoder(conn)
	go func() {
		defer close(p.packets)
		for {
			pk, err := dec.ReadMessage()
			var fe *FrameError
			if errors.As(err, &fe) {
				continue
			}
			if err != nil {
				return
			}
			p.packets <- pk
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return p
}

// next waits for the next packet the link sent.
func (p *rawPeer) next(t *testing.T) Packet {
	t.Helper()
	select {
	case pk, ok := <-p.packets:
		if !ok {
			t.Fatal("link side closed")
		}
		return pk
	case <-time.After(testWait):
		t.Fatal("no packet from the link")
	}
	return Packet{}
}

// answer writes an answer to the request in pk.
func (p *rawPeer) answer(t *testing.T, m Message) {
	t.Helper()
	if _, err := p.enc.WriteMessage(m); err != nil {
		t.Fatal(err)
	}
}

func newTestLink(t *testing.T, opts ...LinkOption) (*Link, *rawPeer) {
	a, b := net.Pipe()
	l := NewLink(a, opts...)
	t.Cleanup(func() { l.Close() })
	return l, newRawPeer(t, b)
}

func receive(t *testing.T, l *Link) Packet {
	t.Helper()
	select {
	case p, ok := <-l.Incoming():
		if !ok {
			t.Fatal("Incoming closed")
		}
		return p
	case <-time.After(testWait):
		t.Fatal("nothing on Incoming")
	}
	return Packet{}
}

func TestLinkPairRequestAndSend(t *testing.T) {
	a, b := net.Pipe()
	host, board := NewLink(a), NewLink(b)
	defer host.Close()
	defer board.Close()
	ctx := context.Background()

	led := &SetLED{ID: 2, Mode: LEDBlink, Brightness: 50, OnMS: 100, OffMS: 900}
	if err := host.Request(ctx, led); err != nil {
		t.Fatalf("Request: %v", err)
	}
	p := receive(t, board)
	if !p.AckRequested {
		t.Fatal("request arrived without the ACK flag")
	}
	assertSameMessage(t, p.Msg, led)

	if err := board.Send(ctx, &Heartbeat{UptimeMS: 99}); err != nil {
		t.Fatal(err)
	}
	p = receive(t, host)
	assertSameMessage(t, p.Msg, &Heartbeat{UptimeMS: 99})
	if p.AckRequested {
		t.Fatal("Send set the ACK flag")
	}
	hs := host.Stats()
	if hs.Requests != 1 || hs.Retries != 0 || hs.Delivered != 1 || hs.LastFrame.IsZero() {
		t.Fatalf("host stats %+v", hs)
	}
}

func TestLinkConcurrentRequests(t *testing.T) {
	a, b := net.Pipe()
	host, board := NewLink(a), NewLink(b)
	defer host.Close()
	defer board.Close()
	go func() {
		for range board.Incoming() {
		}
	}()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				if err := host.Request(context.Background(), &SetRelay{ID: uint8(g), On: i%2 == 0}); err != nil {
					t.Errorf("request %d/%d: %v", g, i, err)
				}
			}
		})
	}
	wg.Wait()
	if s := host.Stats(); s.Requests != 320 || s.Timeouts != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLinkNack(t *testing.T) {
	l, peer := newTestLink(t)
	errc := make(chan error, 1)
	go func() { errc <- l.Request(context.Background(), &SetLED{ID: 9, Mode: LEDOn}) }()
	req := peer.next(t)
	peer.answer(t, &Nack{Seq: req.Seq, Reason: ReasonInvalid})
	err := <-errc
	var nack *NackError
	if !errors.Is(err, ErrNacked) || !errors.As(err, &nack) || nack.Reason != ReasonInvalid || nack.Seq != req.Seq {
		t.Fatalf("err = %v, want NACK invalid", err)
	}
	if s := l.Stats(); s.Nacked != 1 || s.Retries != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLinkRetries(t *testing.T) {
	tests := []struct {
		name     string
		replies  []Message // per copy received; nil = stay silent
		retries  int
		wantErr  error
		wantSent int
	}{
		{"first ACK lost", []Message{nil, &Ack{}}, 3, nil, 2},
		{"no answer", []Message{nil, nil, nil}, 2, ErrTimeout, 3},
		{"busy then ACK", []Message{&Nack{Reason: ReasonBusy}, &Ack{}}, 3, nil, 2},
		{"busy throughout", []Message{&Nack{Reason: ReasonBusy}, &Nack{Reason: ReasonBusy}}, 1, ErrNacked, 2},
		{"no retries", []Message{nil}, 0, ErrTimeout, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, peer := newTestLink(t, WithAckTimeout(30*time.Millisecond), WithRetries(tt.retries))
			errc := make(chan error, 1)
			go func() { errc <- l.Request(context.Background(), &SetRelay{ID: 1, On: true, PulseMS: 200}) }()
			var first Packet
			for i, reply := range tt.replies {
				p := peer.next(t)
				if i == 0 {
					first = p
				} else if p.Seq != first.Seq || p.CRC != first.CRC {
					t.Fatalf("copy %d differs: seq %d crc %#x, first seq %d crc %#x", i, p.Seq, p.CRC, first.Seq, first.CRC)
				}
				switch m := reply.(type) {
				case *Ack:
					m.Seq = p.Seq
				case *Nack:
					m.Seq = p.Seq
				}
				if reply != nil {
					peer.answer(t, reply)
				}
			}
			err := <-errc
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if s := l.Stats(); s.Retries != uint64(tt.wantSent-1) {
				t.Fatalf("retries %d, want %d", s.Retries, tt.wantSent-1)
			}
		})
	}
}

func TestLinkRequestContext(t *testing.T) {
	l, peer := newTestLink(t, WithAckTimeout(time.Hour))
	go func() {
		for range peer.packets {
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.Request(ctx, &SetLED{ID: 1})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTimeout and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Request took %v past a 30 ms deadline", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	err = l.Request(ctx, &SetLED{ID: 1})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want Canceled only", err)
	}
	if err := l.Send(ctx, &Heartbeat{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a canceled context: %v", err)
	}
}

func TestLinkRefusesBadRequests(t *testing.T) {
	l, _ := newTestLink(t)
	ctx := context.Background()
	if err := l.Request(ctx, &Ack{Seq: 1}); err == nil {
		t.Fatal("ACK accepted as a request")
	}
	if err := l.Request(ctx, &Button{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Request invalid: %v", err)
	}
	if err := l.Send(ctx, &Button{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Send invalid: %v", err)
	}
}

func TestLinkAnswersRequests(t *testing.T) {
	l, peer := newTestLink(t, WithInbox(1))
	send := func(f Frame) {
		t.Helper()
		if err := peer.enc.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(m Message) {
		t.Helper()
		assertSameMessage(t, peer.next(t).Msg, m)
	}
	trigger, _ := (&Trigger{Source: 1, BoardTimeMS: 10}).MarshalBinary()
	trigger2, _ := (&Trigger{Source: 2, BoardTimeMS: 20}).MarshalBinary()

	send(Frame{Type: TypeTrigger, Seq: 10, AckRequested: true, Payload: trigger})
	expect(&Ack{Seq: 10})
	send(Frame{Type: TypeTrigger, Seq: 10, AckRequested: true, Payload: trigger}) // retransmission
	expect(&Ack{Seq: 10})
	send(Frame{Type: TypeTrigger, Seq: 11, AckRequested: true, Payload: trigger2}) // inbox (1) is full
	expect(&Nack{Seq: 11, Reason: ReasonBusy})
	send(Frame{Type: 0x40, Seq: 12, AckRequested: true})
	expect(&Nack{Seq: 12, Reason: ReasonUnknownType})
	send(Frame{Type: TypeLED, Seq: 13, AckRequested: true, Payload: []byte{1}})
	expect(&Nack{Seq: 13, Reason: ReasonMalformed})
	send(Frame{Type: TypeAck, Seq: 14, Payload: []byte{99}}) // nobody waits for 99

	p := receive(t, l)
	assertSameMessage(t, p.Msg, &Trigger{Source: 1, BoardTimeMS: 10})
	send(Frame{Type: TypeTrigger, Seq: 11, AckRequested: true, Payload: trigger2}) // retry after busy
	expect(&Ack{Seq: 11})
	assertSameMessage(t, receive(t, l).Msg, &Trigger{Source: 2, BoardTimeMS: 20})

	// A HELLO means the peer restarted: the same (seq, crc) is new again.
	hello, _ := (&Hello{Protocol: 1, DeviceID: "b"}).MarshalBinary()
	send(Frame{Type: TypeHello, Seq: 0, Payload: hello})
	receive(t, l)
	send(Frame{Type: TypeTrigger, Seq: 10, AckRequested: true, Payload: trigger})
	expect(&Ack{Seq: 10})
	assertSameMessage(t, receive(t, l).Msg, &Trigger{Source: 1, BoardTimeMS: 10})

	s := l.Stats()
	if s.Duplicates != 1 || s.Dropped != 1 || s.StaleAnswers != 1 || s.Delivered != 4 ||
		s.Decoder.UnknownType != 1 || s.Decoder.Malformed != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLinkEndsWhenPortFails(t *testing.T) {
	l, peer := newTestLink(t)
	peer.conn.Close()
	select {
	case <-l.Done():
	case <-time.After(testWait):
		t.Fatal("link did not end")
	}
	if err := l.Err(); err == nil || errors.Is(err, ErrClosed) || !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Err = %v, want the port's error", err)
	}
	if _, ok := <-l.Incoming(); ok {
		t.Fatal("Incoming still open")
	}
	err := l.Send(context.Background(), &Heartbeat{})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after end: %v", err)
	}
	if err := l.Request(context.Background(), &SetLED{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Request after end: %v", err)
	}
}

func TestLinkClose(t *testing.T) {
	l, _ := newTestLink(t)
	if l.Err() != nil {
		t.Fatal("Err before the end")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if l.Err() != ErrClosed {
		t.Fatalf("Err = %v", l.Err())
	}
	if err := l.Request(context.Background(), &SetLED{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Request after Close: %v", err)
	}
}

// stuckPort accepts no writes until released, like a USB serial device
// whose buffer never drains; Close does not unblock Write.
type stuckPort struct {
	release chan struct{}
	closed  chan struct{}
	once    sync.Once
}

func newStuckPort() *stuckPort {
	return &stuckPort{release: make(chan struct{}), closed: make(chan struct{})}
}

func (p *stuckPort) Read([]byte) (int, error) {
	<-p.closed
	return 0, io.ErrClosedPipe
}

func (p *stuckPort) Write(b []byte) (int, error) {
	<-p.release
	return 0, io.ErrClosedPipe
}

func (p *stuckPort) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

func TestLinkNeverBlocksOnStuckPort(t *testing.T) {
	port := newStuckPort()
	defer close(port.release)
	const wt = 100 * time.Millisecond
	l := NewLink(port, WithWriteQueue(1), WithWriteTimeout(wt), WithCloseTimeout(50*time.Millisecond),
		WithAckTimeout(20*time.Millisecond), WithRetries(1))

	start := time.Now()
	ctx := context.Background()
	var errs []error
	for range 3 {
		errs = append(errs, l.Send(ctx, &Heartbeat{}))
	}
	errs = append(errs, l.Request(ctx, &SetLED{}))
	if d := time.Since(start); d > 10*wt {
		t.Fatalf("calls took %v on a stuck port", d)
	}
	if errs[len(errs)-1] == nil {
		t.Fatal("Request succeeded on a stuck port")
	}
	for _, err := range errs[1:] {
		if err != nil && !errors.Is(err, ErrQueueFull) && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrTimeout) {
			t.Fatalf("unexpected error %v", err)
		}
	}
	select {
	case <-l.Done():
	case <-time.After(testWait):
		t.Fatal("stalled write did not end the link")
	}
	if !errors.Is(l.Err(), ErrWriteStalled) {
		t.Fatalf("Err = %v, want ErrWriteStalled", l.Err())
	}
	start = time.Now()
	if err := l.Close(); err == nil {
		t.Fatal("Close reported success with a write still blocked")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
}
