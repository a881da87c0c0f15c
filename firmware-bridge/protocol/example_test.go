package protocol_test

import (
	"context"
	"fmt"
	"net"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

func ExampleAppendMessage() {
	wire, err := protocol.AppendMessage(nil, 1, false, &protocol.Heartbeat{UptimeMS: 1000})
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", wire)
	// Output: 04 02 01 04 03 e8 03 01 05 38 46 6c 0b 00
}

func ExampleLink() {
	hostPort, boardPort := net.Pipe() // a serial port in real use
	host, board := protocol.NewLink(hostPort), protocol.NewLink(boardPort)
	defer host.Close()
	defer board.Close()

	// Request waits for the board's ACK, resending on timeout.
	ctx := context.Background()
	err := host.Request(ctx, &protocol.SetLED{ID: 1, Mode: protocol.LEDOn, Brightness: 128})
	fmt.Println("request:", err)

	p := <-board.Incoming()
	led := p.Msg.(*protocol.SetLED)
	fmt.Println("board got:", p.Msg.Type(), "led", led.ID, led.Mode, "ack requested:", p.AckRequested)
	// Output:
	// request: <nil>
	// board got: LED led 1 on ack requested: true
}
