package rootsys

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// serve runs a fake server on one end of a pipe: it reads n bytes and writes reply.
func serve(t *testing.T, n int, reply []byte) net.Conn {
	c, s := net.Pipe()
	go func() {
		defer s.Close()
		buf := make([]byte, n)
		if _, err := io.ReadFull(s, buf); err != nil {
			return
		}
		s.Write(reply)
		io.Copy(io.Discard, s)
	}()
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAnswers9P(t *testing.T) {
	rversion := []byte{19, 0, 0, 0, 101, 0xff, 0xff, 0, 0, 1, 0, 8, 0, '9', 'P', '2', '0', '0', '0', '.', 'L'}
	if err := answers9P(serve(t, 21, rversion), time.Second); err != nil {
		t.Errorf("a 9P server: %v", err)
	}
	if err := answers9P(serve(t, 21, []byte{7, 0, 0, 0, 107, 0, 0}), time.Second); err == nil || !strings.Contains(err.Error(), "reply type 107") {
		t.Errorf("an Rerror: %v", err)
	}
	// A relay that takes the connection and says nothing: a timeout, not a hang.
	c, s := net.Pipe()
	defer s.Close()
	go io.Copy(io.Discard, s)
	start := time.Now()
	if err := answers9P(c, 200*time.Millisecond); err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("a silent server: %v after %v", err, time.Since(start))
	}
}

func TestAnswersNFS(t *testing.T) {
	reply := make([]byte, 28)
	binary.BigEndian.PutUint32(reply[0:], 0x80000000|24)
	binary.BigEndian.PutUint32(reply[4:], 0x616e7473)
	binary.BigEndian.PutUint32(reply[8:], 1)
	if err := answersNFS(serve(t, 44, reply), 4, time.Second); err != nil {
		t.Errorf("an NFS server: %v", err)
	}
	bad := append([]byte{}, reply...)
	binary.BigEndian.PutUint32(bad[24:], 2) // PROG_MISMATCH... accept_stat != 0
	if err := answersNFS(serve(t, 44, bad), 4, time.Second); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("a refusal: %v", err)
	}
}
