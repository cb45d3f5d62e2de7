package console

// ring is a client's backlog: the last RingSize bytes of its output. It holds up
// to twice that and moves the newest RingSize bytes to the front only when full,
// so that a write costs its own length (amortized), not RingSize. Moving the whole
// ring on every write, as the backlog did, cost each key's echo a 64 KiB copy once
// a client had printed that much, and let a root that writes its console a byte at
// a time make PID 1 copy 64 KiB a byte.
type ring struct {
	b     []byte
	moved int // bytes copied to make room (tests: the cost stays linear)
}

func (r *ring) write(p []byte) {
	if len(p) >= RingSize {
		r.b = append(r.b[:0], p[len(p)-RingSize:]...)
		return
	}
	if len(r.b)+len(p) > 2*RingSize {
		keep := RingSize - len(p) // with p, exactly RingSize
		r.b = append(r.b[:0], r.b[len(r.b)-keep:]...)
		r.moved += keep
	}
	r.b = append(r.b, p...)
}

// bytes returns the last RingSize bytes written (fewer before that many were),
// valid until the next write.
func (r *ring) bytes() []byte {
	if len(r.b) > RingSize {
		return r.b[len(r.b)-RingSize:]
	}
	return r.b
}
