package protocol

import (
	"errors"
	"fmt"
)

// readLoop decodes frames until the port fails or the link ends.
func (l *Link) readLoop() {
	defer l.wg.Done()
	defer close(l.in)
	for {
		p, err := l.dec.ReadMessage()
		var fe *FrameError
		if errors.As(err, &fe) {
			if p.AckRequested && !isAnswer(fe.Frame.Type) {
				l.reply(&Nack{Seq: p.Seq, Reason: fe.Reason()})
			}
			continue
		}
		if err != nil {
			l.shutdown(fmt.Errorf("protocol: link read: %w", err))
			return
		}
		l.count.lastFrame.Store(p.Time.UnixNano())
		l.handle(p)
	}
}

// isAnswer reports whether t is ACK or NACK, which are never answered.
func isAnswer(t Type) bool { return t == TypeAck || t == TypeNack }

// handle routes one received message: answers to requests in flight, and
// everything else to Incoming with an ACK when the sender asked for one.
func (l *Link) handle(p Packet) {
	switch m := p.Msg.(type) {
	case *Ack:
		l.resolve(m.Seq, ackResult{})
		return
	case *Nack:
		l.resolve(m.Seq, ackResult{nacked: true, reason: m.Reason})
		return
	case *Hello:
		l.dedup.Reset() // the peer (re)started its sequence
	}
	if p.AckRequested && l.dedup.Seen(p.Seq, p.CRC, p.Time) {
		l.count.duplicates.Add(1)
		l.reply(&Ack{Seq: p.Seq})
		return
	}
	// This loop is the only sender on l.in, so room seen here stays.
	if len(l.in) == cap(l.in) {
		l.count.dropped.Add(1)
		if p.AckRequested {
			l.reply(&Nack{Seq: p.Seq, Reason: ReasonBusy})
		}
		return
	}
	l.count.delivered.Add(1) // counted before a consumer can see it
	l.in <- p
	if p.AckRequested {
		l.dedup.Remember(p.Seq, p.CRC, p.Time)
		l.reply(&Ack{Seq: p.Seq})
	}
}

// reply queues an ACK or NACK without waiting; when the control queue is
// full the answer is dropped and the peer's retry asks again.
func (l *Link) reply(m Message) {
	b, err := AppendMessage(nil, l.nextSeq(), false, m)
	if err != nil {
		return // ACK and NACK always encode
	}
	select {
	case l.ctrl <- b:
	default:
		l.count.repliesDropped.Add(1)
	}
}
