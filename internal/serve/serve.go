// Package serve is the accept loop of PID 1's sockets (the control socket, the
// hubs): at most max connections served at once, each in a goroutine of its own
// under guard (PID 1's recover), one more answered by busy and closed. Neither a
// client that connects and says nothing nor one that does not read holds the
// loop.
package serve

import (
	"errors"
	"net"
	"time"
)

// Limited accepts on l until it is closed (nil) or fails otherwise.
func Limited(l net.Listener, max int, guard func(func()), handle, busy func(net.Conn)) error {
	if guard == nil {
		guard = func(f func()) { f() }
	}
	slots := make(chan struct{}, max)
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and the like: wait a little rather than spin.
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case slots <- struct{}{}:
			go func() {
				defer func() { <-slots }()
				guard(func() { handle(c) })
			}()
		default:
			go func() {
				defer c.Close()
				c.SetWriteDeadline(time.Now().Add(time.Second))
				busy(c)
			}()
		}
	}
}
