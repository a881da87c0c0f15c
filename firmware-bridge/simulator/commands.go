package simulator

import (
	"errors"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// readLoop handles what the host sends until the port fails.
func (b *Board) readLoop() error {
	for {
		p, err := b.dec.ReadMessage()
		var fe *protocol.FrameError
		if errors.As(err, &fe) {
			if p.AckRequested && fe.Frame.Type != protocol.TypeAck && fe.Frame.Type != protocol.TypeNack {
				b.answer(p.Seq, false, fe.Reason())
			}
			continue
		}
		if err != nil {
			return err
		}
		b.handle(p)
	}
}

// handle acts on one message from the host.
func (b *Board) handle(p protocol.Packet) {
	switch m := p.Msg.(type) {
	case *protocol.Ack:
		b.resolve(m.Seq, m)
		return
	case *protocol.Nack:
		b.resolve(m.Seq, m)
		return
	}
	if p.AckRequested {
		b.mu.Lock()
		dup := b.dedup.Seen(p.Seq, p.CRC, p.Time)
		if dup {
			b.stats.Duplicates++
		}
		b.mu.Unlock()
		if dup {
			b.answer(p.Seq, true, 0)
			return
		}
	}
	ok, reason := b.apply(p.Msg)
	if p.AckRequested {
		if ok {
			b.mu.Lock()
			b.dedup.Remember(p.Seq, p.CRC, p.Time)
			b.mu.Unlock()
		}
		b.answer(p.Seq, ok, reason)
	}
	if _, isHello := p.Msg.(*protocol.Hello); isHello {
		_ = b.send(b.hello()) // a broken port shows in Run's next write
	}
}

// apply carries out one command and says whether it was accepted, or why
// not.
func (b *Board) apply(m protocol.Message) (bool, protocol.NackReason) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch m := m.(type) {
	case *protocol.Hello, *protocol.Heartbeat:
		return true, 0
	case *protocol.SetLED:
		if _, ok := b.leds[m.ID]; !ok {
			return false, protocol.ReasonInvalid
		}
		b.leds[m.ID] = *m
		b.stats.Commands++
		return true, 0
	case *protocol.SetRelay:
		r, ok := b.relays[m.ID]
		if !ok {
			return false, protocol.ReasonInvalid
		}
		r.on = m.On
		r.gen++
		if m.PulseMS > 0 {
			gen, id := r.gen, m.ID
			time.AfterFunc(time.Duration(m.PulseMS)*time.Millisecond, func() { b.endPulse(id, gen) })
		}
		b.stats.Commands++
		return true, 0
	}
	return false, protocol.ReasonUnsupported
}

// endPulse reverts a relay after its pulse unless a newer command came.
func (b *Board) endPulse(id uint8, gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.relays[id]; ok && r.gen == gen {
		r.on = !r.on
	}
}

// answer sends ACK, or NACK with reason, for the host's frame seq.
func (b *Board) answer(seq uint8, ok bool, reason protocol.NackReason) {
	var m protocol.Message = &protocol.Ack{Seq: seq}
	if !ok {
		m = &protocol.Nack{Seq: seq, Reason: reason}
	}
	_ = b.send(m) // a broken port shows in Run's next write
}

// LED returns the last command applied to LED id (off after boot), and
// whether the board has that LED.
func (b *Board) LED(id uint8) (protocol.SetLED, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.leds[id]
	return l, ok
}

// Relay returns whether relay id is on now, and whether the board has it.
func (b *Board) Relay(id uint8) (on, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.relays[id]
	if !ok {
		return false, false
	}
	return r.on, true
}
