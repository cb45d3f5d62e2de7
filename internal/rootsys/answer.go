package rootsys

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// A TCP connection is not an answer: a relay (QEMU's guestfwd) or the kernel of a
// frozen server takes it. A server answers when it replies to its protocol's
// smallest request: 9P's Tversion, NFS's NULL procedure.

// answers9P sends Tversion and reads the Rversion.
func answers9P(c net.Conn, timeout time.Duration) error {
	c.SetDeadline(time.Now().Add(timeout))
	defer c.SetDeadline(time.Time{})
	const msize = 65536
	version := "9P2000.L"
	var b bytes.Buffer
	// size[4] type[1] tag[2] msize[4] version[s]
	binary.Write(&b, binary.LittleEndian, uint32(4+1+2+4+2+len(version)))
	b.WriteByte(100) // Tversion
	binary.Write(&b, binary.LittleEndian, uint16(0xffff))
	binary.Write(&b, binary.LittleEndian, uint32(msize))
	binary.Write(&b, binary.LittleEndian, uint16(len(version)))
	b.WriteString(version)
	if _, err := c.Write(b.Bytes()); err != nil {
		return fmt.Errorf("9P Tversion: %w", err)
	}
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return fmt.Errorf("no 9P answer: %w", err)
	}
	if hdr[4] != 101 { // Rversion
		return fmt.Errorf("not a 9P server: reply type %d to Tversion", hdr[4])
	}
	return nil
}

// answersNFS calls the NFS program's NULL procedure (ONC RPC over TCP, record
// marking) and reads an accepted reply.
func answersNFS(c net.Conn, vers uint32, timeout time.Duration) error {
	c.SetDeadline(time.Now().Add(timeout))
	defer c.SetDeadline(time.Time{})
	const xid = 0x616e7473 // "ants"
	var call bytes.Buffer
	for _, w := range []uint32{xid, 0 /* CALL */, 2 /* RPC version */, 100003 /* NFS */, vers, 0 /* NULL */, 0, 0 /* AUTH_NONE cred */, 0, 0 /* verifier */} {
		binary.Write(&call, binary.BigEndian, w)
	}
	var rec bytes.Buffer
	binary.Write(&rec, binary.BigEndian, uint32(0x80000000|call.Len()))
	rec.Write(call.Bytes())
	if _, err := c.Write(rec.Bytes()); err != nil {
		return fmt.Errorf("NFS NULL call: %w", err)
	}
	var reply [4 + 24]byte
	if _, err := io.ReadFull(c, reply[:]); err != nil {
		return fmt.Errorf("no NFS answer: %w", err)
	}
	w := func(i int) uint32 { return binary.BigEndian.Uint32(reply[4+4*i:]) }
	// xid, REPLY, MSG_ACCEPTED, verifier flavor, verifier length, accept_stat
	if w(0) != xid || w(1) != 1 {
		return fmt.Errorf("not an RPC reply to the NFS NULL call")
	}
	if w(2) != 0 || w(5) != 0 {
		return fmt.Errorf("the NFS server refused the NULL call (reply %d, accept status %d)", w(2), w(5))
	}
	return nil
}
