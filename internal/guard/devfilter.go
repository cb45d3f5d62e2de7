// Package guard keeps the root system from reaching what the admin namespace
// depends on: a device filter on its cgroup (eBPF, as systemd-nspawn and runc do),
// a reduced capability bounding set, memory and process limits that leave a reserve
// for the admin side, and a /dev of its own. PID 1 applies the cgroup parts from
// outside the root's cgroup namespace, so the root cannot undo them; the root child
// applies the rest just before it execs the root's init.
package guard

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Device types as the cgroup device hook gives them (BPF_DEVCG_DEV_*).
const (
	Block = 1
	Char  = 2
)

// Any matches every minor number.
const Any = -1

// DevRule allows one char device (or a whole major with Minor Any).
type DevRule struct {
	Major, Minor int
	Name         string // what it is, for docs and messages
}

// RootDevices are the char devices a contained root may open or make: the ones
// systemd-nspawn gives a container, its own ptys, and the few a distribution's
// services use (fuse, tun, loop-control, kvm). Every block device is allowed too
// (the root's disks are its own); everything else is refused, the console devices
// (tty0-63, ttyS*, console, vcs*, hvc*, ttyUSB*) and /dev/mem, /dev/kmem, /dev/port,
// /dev/kmsg among them.
var RootDevices = []DevRule{
	{1, 3, "null"}, {1, 5, "zero"}, {1, 7, "full"}, {1, 8, "random"}, {1, 9, "urandom"},
	{5, 0, "tty"}, {5, 2, "ptmx"},
	{136, Any, "pts"}, {137, Any, "pts"}, {138, Any, "pts"}, {139, Any, "pts"},
	{140, Any, "pts"}, {141, Any, "pts"}, {142, Any, "pts"}, {143, Any, "pts"},
	{10, 229, "fuse"}, {10, 200, "net/tun"}, {10, 237, "loop-control"}, {10, 232, "kvm"},
}

// Hidden block devices are the admin side's own (the loop device under the image's
// squashfs, internal/payload): a contained root gets no node for them and the
// filter refuses them, as it allows every other block device.

// eBPF instruction encoding (linux/bpf.h, linux/bpf_common.h).
const (
	clsLDX   = 0x01
	clsALU   = 0x04
	clsJMP   = 0x05
	clsALU64 = 0x07
	sizeW    = 0x00
	modeMEM  = 0x60
	srcK     = 0x00
	opAND    = 0x50
	opMOV    = 0xb0
	jmpJA    = 0x00
	jmpJEQ   = 0x10
	jmpJNE   = 0x50
	jmpEXIT  = 0x90
)

// insn is one eBPF instruction.
type insn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

func (i insn) bytes() []byte {
	b := make([]byte, 8)
	b[0] = i.code
	b[1] = i.dst&0xf | (i.src&0xf)<<4
	binary.LittleEndian.PutUint16(b[2:], uint16(i.off))
	binary.LittleEndian.PutUint32(b[4:], uint32(i.imm))
	return b
}

// program assembles the device filter: the hook's context is struct
// bpf_cgroup_dev_ctx {u32 access_type (access<<16 | type); u32 major; u32 minor},
// in r1; the program returns 1 to allow, 0 to refuse (EPERM). hidden are block
// devices refused before every other block device is allowed.
func program(rules []DevRule, hidden []DevRule) []insn {
	var p []insn
	ldx := func(dst uint8, off int16) insn {
		return insn{code: clsLDX | sizeW | modeMEM, dst: dst, src: 1, off: off}
	}
	p = append(p,
		ldx(2, 0), // r2 = access_type
		insn{code: clsALU | opAND | srcK, dst: 2, imm: 0xffff}, // r2 = type
		ldx(3, 4), // r3 = major
		ldx(4, 8), // r4 = minor
	)
	// Jumps to "allow" and "deny" are fixed up at the end.
	const allow, deny = int32(-1), int32(-2)
	type fix struct {
		at     int
		target int32
	}
	var fixes []fix
	jump := func(code uint8, reg uint8, imm int32, target int32) {
		fixes = append(fixes, fix{len(p), target})
		p = append(p, insn{code: code, dst: reg, imm: imm})
	}
	for _, h := range hidden {
		p = append(p,
			insn{code: clsJMP | jmpJNE | srcK, dst: 2, imm: Block, off: 3},
			insn{code: clsJMP | jmpJNE | srcK, dst: 3, imm: int32(h.Major), off: 2},
			insn{code: clsJMP | jmpJNE | srcK, dst: 4, imm: int32(h.Minor), off: 1})
		jump(clsJMP|jmpJA, 0, 0, deny)
	}
	jump(clsJMP|jmpJEQ|srcK, 2, Block, allow)
	jump(clsJMP|jmpJNE|srcK, 2, Char, deny)
	for _, r := range rules {
		if r.Minor == Any {
			p = append(p, insn{code: clsJMP | jmpJNE | srcK, dst: 3, imm: int32(r.Major), off: 1})
		} else {
			p = append(p, insn{code: clsJMP | jmpJNE | srcK, dst: 3, imm: int32(r.Major), off: 2})
			p = append(p, insn{code: clsJMP | jmpJNE | srcK, dst: 4, imm: int32(r.Minor), off: 1})
		}
		jump(clsJMP|jmpJA, 0, 0, allow)
	}
	denyAt := len(p)
	p = append(p,
		insn{code: clsALU64 | opMOV | srcK, dst: 0, imm: 0},
		insn{code: clsJMP | jmpEXIT},
	)
	allowAt := len(p)
	p = append(p,
		insn{code: clsALU64 | opMOV | srcK, dst: 0, imm: 1},
		insn{code: clsJMP | jmpEXIT},
	)
	for _, f := range fixes {
		to := denyAt
		if f.target == allow {
			to = allowAt
		}
		p[f.at].off = int16(to - f.at - 1)
	}
	return p
}

// Allowed runs the filter program on one access, as the kernel would: a
// small interpreter of exactly the instructions program emits, for tests and for
// `ants` to explain a refusal.
func Allowed(rules []DevRule, typ, major, minor int, hidden ...DevRule) bool {
	p := program(rules, hidden)
	var r [5]uint32
	ctx := [3]uint32{uint32(3<<16 | typ), uint32(major), uint32(minor)}
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		switch in.code {
		case clsLDX | sizeW | modeMEM:
			r[in.dst] = ctx[in.off/4]
		case clsALU | opAND | srcK:
			r[in.dst] &= uint32(in.imm)
		case clsALU64 | opMOV | srcK:
			r[in.dst] = uint32(in.imm)
		case clsJMP | jmpJEQ | srcK:
			if r[in.dst] == uint32(in.imm) {
				pc += int(in.off)
			}
		case clsJMP | jmpJNE | srcK:
			if r[in.dst] != uint32(in.imm) {
				pc += int(in.off)
			}
		case clsJMP | jmpJA:
			pc += int(in.off)
		case clsJMP | jmpEXIT:
			return r[0] == 1
		default:
			panic(fmt.Sprintf("guard: instruction %#x not interpreted", in.code))
		}
	}
	return false
}

// bpf_attr for BPF_PROG_LOAD, up to expected_attach_type (the kernel takes a
// shorter attr than its own and zero-fills the rest).
type progLoadAttr struct {
	progType           uint32
	insnCnt            uint32
	insns              uint64
	license            uint64
	logLevel           uint32
	logSize            uint32
	logBuf             uint64
	kernVersion        uint32
	progFlags          uint32
	progName           [16]byte
	progIfindex        uint32
	expectedAttachType uint32
}

// bpf_attr for BPF_PROG_ATTACH.
type progAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

// AttachDeviceFilter loads the filter for rules and attaches it to the cgroup
// directory dir, with BPF_F_ALLOW_MULTI so that a systemd in a child cgroup can add
// filters of its own (every attached program must allow an access). The
// attachment lives as long as the cgroup. This is a hand-assembled program of 30-odd
// instructions and two bpf(2) calls rather than cilium/ebpf: PID 1 makes the call,
// and PID 1 stays small (cold start under TCG is measured in docs/performance.md).
// hidden are block devices refused (the admin side's own).
func AttachDeviceFilter(dir string, rules []DevRule, hidden ...DevRule) error {
	p := program(rules, hidden)
	code := make([]byte, 0, 8*len(p))
	for _, in := range p {
		code = append(code, in.bytes()...)
	}
	license := []byte("GPL\x00")
	load := func(logBuf []byte) (uintptr, unix.Errno) {
		attr := progLoadAttr{
			progType:           unix.BPF_PROG_TYPE_CGROUP_DEVICE,
			insnCnt:            uint32(len(p)),
			insns:              uint64(uintptr(unsafe.Pointer(&code[0]))),
			license:            uint64(uintptr(unsafe.Pointer(&license[0]))),
			expectedAttachType: unix.BPF_CGROUP_DEVICE,
		}
		if logBuf != nil {
			attr.logLevel, attr.logSize = 1, uint32(len(logBuf))
			attr.logBuf = uint64(uintptr(unsafe.Pointer(&logBuf[0])))
		}
		copy(attr.progName[:], "ants_rootdev")
		fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		runtime.KeepAlive(code)
		runtime.KeepAlive(license)
		runtime.KeepAlive(logBuf)
		return fd, errno
	}
	// Without a log first: a log too small for the verifier's words fails the
	// load (ENOSPC). With one only to explain a refusal.
	fd, errno := load(nil)
	if errno != 0 {
		logBuf := make([]byte, 256<<10)
		load(logBuf)
		msg := strings.TrimRight(string(logBuf[:clen(logBuf)]), "\n")
		if msg != "" {
			msg = " (verifier: " + msg + ")"
		}
		return fmt.Errorf("loading the device filter (bpf BPF_PROG_LOAD): %w%s", errno, msg)
	}
	defer unix.Close(int(fd))
	cg, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("device filter: open cgroup %s: %w", dir, err)
	}
	defer unix.Close(cg)
	at := progAttachAttr{
		targetFd:    uint32(cg),
		attachBpfFd: uint32(fd),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	if _, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_ATTACH, uintptr(unsafe.Pointer(&at)), unsafe.Sizeof(at)); errno != 0 {
		return fmt.Errorf("attaching the device filter to %s (bpf BPF_PROG_ATTACH): %w", dir, errno)
	}
	return nil
}

func clen(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

// DevName names a device for a message: "char 4:64".
func DevName(typ, major, minor int) string {
	t := "char"
	if typ == Block {
		t = "block"
	}
	return fmt.Sprintf("%s %d:%d", t, major, minor)
}
