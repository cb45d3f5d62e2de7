package console

import (
	"bytes"
	"math/rand"
	"testing"
)

// The ring keeps exactly the last RingSize bytes, whatever the sizes of the
// writes, and the bytes it copies to make room stay about what was written (not
// RingSize a write).
func TestRingLastBytesLinearCost(t *testing.T) {
	var r ring
	var all []byte
	rng := rand.New(rand.NewSource(1))
	written := 0
	for i := 0; i < 20000; i++ {
		n := rng.Intn(64) // mostly small writes, as echoes are
		switch i % 997 {
		case 0:
			n = RingSize + rng.Intn(100) // a write larger than the ring
		case 1:
			n = RingSize - 1
		}
		p := make([]byte, n)
		rng.Read(p)
		r.write(p)
		all = append(all, p...)
		written += n
		want := all
		if len(want) > RingSize {
			want = want[len(want)-RingSize:]
		}
		if !bytes.Equal(r.bytes(), want) {
			t.Fatalf("after write %d (%d bytes): backlog of %d bytes is not the last %d written", i, n, len(r.bytes()), len(want))
		}
		if cap(r.b) > 4*RingSize {
			t.Fatalf("after write %d: capacity %d", i, cap(r.b))
		}
	}
	if r.moved > written {
		t.Errorf("copied %d bytes to make room for %d written: a write must not cost RingSize", r.moved, written)
	}
}

// One-byte writes into a full ring: the old backlog copied 64 KiB for each.
func TestRingOneByteWrites(t *testing.T) {
	var r ring
	r.write(make([]byte, RingSize))
	r.moved = 0
	for i := 0; i < 4*RingSize; i++ {
		r.write([]byte{byte(i)})
	}
	if r.moved > 4*RingSize {
		t.Errorf("copied %d bytes for %d one-byte writes", r.moved, 4*RingSize)
	}
	if b := r.bytes(); len(b) != RingSize || b[len(b)-1] != byte((4*RingSize-1)&0xff) {
		t.Errorf("backlog of %d bytes, last %d", len(b), b[len(b)-1])
	}
}

func BenchmarkRingEcho(b *testing.B) {
	var r ring
	r.write(make([]byte, RingSize))
	p := []byte("x")
	for i := 0; i < b.N; i++ {
		r.write(p)
	}
}
