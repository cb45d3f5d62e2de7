// Package nsfs serves every process's mount namespace as a file that can be read
// and written, as ANTS made /proc/PID/ns on Plan 9: DIR/PID/ns reads as `ns PID`
// prints it, and each line written to it is applied as `ns -w PID` applies it.
// Linux's /proc/PID/ns is a directory of namespace handles and is not writable, so
// nsfs is a FUSE file system (github.com/hanwen/go-fuse/v2): the kernel's FUSE
// client needs nothing but the fuse module, and as root go-fuse mounts with
// mount(2) itself, with no fusermount helper.
package nsfs

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Backend reads and changes namespaces; nsfs is only the file interface.
type Backend struct {
	// Read returns the namespace of pid in ns syntax.
	Read func(pid int) (string, error)
	// Write applies lines of ns syntax in pid's mount namespace.
	Write func(pid int, lines string) error
	// The checks of every write (see mayWrite), each nil for the real one:
	// Creds reads a process's credentials (ReadCreds), UserNSAncestor says
	// whether caller's user namespace is pid's or an ancestor of it
	// (UserNSAncestor), MayAttach whether a process with creds c passes the
	// kernel's ptrace attach check on pid (KernelMayAttach).
	Creds          func(pid int) (Creds, error)
	UserNSAncestor func(caller, pid int) bool
	MayAttach      func(c Creds, pid int) bool
	// Proc is where the processes are listed ("/proc").
	Proc string
}

func (b *Backend) proc() string {
	if b.Proc == "" {
		return "/proc"
	}
	return b.Proc
}

// Root is the top directory: one directory per process.
type Root struct {
	fs.Inode
	B *Backend
}

var _ = (fs.NodeReaddirer)((*Root)(nil))
var _ = (fs.NodeLookuper)((*Root)(nil))

// Readdir lists the processes.
func (r *Root) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	ents, err := os.ReadDir(r.B.proc())
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	var out []fuse.DirEntry
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			out = append(out, fuse.DirEntry{Name: e.Name(), Mode: fuse.S_IFDIR, Ino: uint64(pid) * 2})
		}
	}
	return fs.NewListDirStream(out), 0
}

// Lookup finds a process's directory.
func (r *Root) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	pid, err := strconv.Atoi(name)
	if err != nil || pid <= 0 {
		return nil, syscall.ENOENT
	}
	if _, err := os.Stat(r.B.proc() + "/" + name); err != nil {
		return nil, syscall.ENOENT
	}
	d := &pidDir{pid: pid, b: r.B}
	return r.NewInode(ctx, d, fs.StableAttr{Mode: fuse.S_IFDIR, Ino: uint64(pid) * 2}), 0
}

type pidDir struct {
	fs.Inode
	pid int
	b   *Backend
}

var _ = (fs.NodeReaddirer)((*pidDir)(nil))
var _ = (fs.NodeLookuper)((*pidDir)(nil))

func (d *pidDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	return fs.NewListDirStream([]fuse.DirEntry{{Name: "ns", Mode: fuse.S_IFREG, Ino: uint64(d.pid)*2 + 1}}), 0
}

func (d *pidDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if name != "ns" {
		return nil, syscall.ENOENT
	}
	f := &nsFile{pid: d.pid, b: d.b}
	out.Mode = fuse.S_IFREG | 0o644
	return d.NewInode(ctx, f, fs.StableAttr{Mode: fuse.S_IFREG, Ino: uint64(d.pid)*2 + 1}), 0
}

// nsFile is DIR/PID/ns.
type nsFile struct {
	fs.Inode
	pid int
	b   *Backend
}

var _ = (fs.NodeOpener)((*nsFile)(nil))
var _ = (fs.NodeGetattrer)((*nsFile)(nil))
var _ = (fs.NodeSetattrer)((*nsFile)(nil))

func (f *nsFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o644
	out.Size = 0 // made on each read (direct I/O)
	return 0
}

// Setattr accepts truncation, so `echo ... > ns` works.
func (f *nsFile) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFREG | 0o644
	return 0
}

// Open lets anyone open the file: who may change the namespace is checked on
// each write (Backend.mayWrite), with the writing process's credentials.
func (f *nsFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return &handle{pid: f.pid, b: f.b}, fuse.FOPEN_DIRECT_IO, 0
}

// check is Backend.mayWrite for the process that made the request.
func (h *handle) check(ctx context.Context) syscall.Errno {
	caller, ok := fuse.FromContext(ctx)
	if !ok {
		return syscall.EPERM
	}
	return errno(h.b.mayWrite(int(caller.Pid), h.pid))
}

// handle is one open of an ns file: a snapshot for reading, a line buffer for
// writing.
type handle struct {
	mu      sync.Mutex
	pid     int
	b       *Backend
	text    []byte
	read    bool
	partial string
}

var _ = (fs.FileReader)((*handle)(nil))
var _ = (fs.FileWriter)((*handle)(nil))
var _ = (fs.FileFlusher)((*handle)(nil))

func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.read {
		s, err := h.b.Read(h.pid)
		if err != nil {
			return nil, errno(err)
		}
		h.text, h.read = []byte(s), true
	}
	if off >= int64(len(h.text)) {
		return fuse.ReadResultData(nil), 0
	}
	end := off + int64(len(dest))
	if end > int64(len(h.text)) {
		end = int64(len(h.text))
	}
	return fuse.ReadResultData(h.text[off:end]), 0
}

// Write applies every complete line at once; a partial line waits for its end
// or for the close.
func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if e := h.check(ctx); e != 0 {
		return 0, e
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.partial + string(data)
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		h.partial = s
		return uint32(len(data)), 0
	}
	h.partial = s[i+1:]
	if err := h.b.Write(h.pid, s[:i+1]); err != nil {
		return 0, errno(err)
	}
	return uint32(len(data)), 0
}

func (h *handle) Flush(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if strings.TrimSpace(h.partial) == "" {
		h.partial = ""
		return 0
	}
	s := h.partial
	h.partial = ""
	if e := h.check(ctx); e != 0 {
		return e
	}
	return errno(h.b.Write(h.pid, s+"\n"))
}

// errno keeps the errno of a failure for the writer (ENOENT, EPERM), else EIO.
func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	if os.IsNotExist(err) {
		return syscall.ENOENT
	}
	if os.IsPermission(err) {
		return syscall.EPERM
	}
	return syscall.EIO
}

// Mount serves the file system at dir until the returned server is unmounted.
func Mount(dir string, b *Backend) (*fuse.Server, error) {
	root := &Root{B: b}
	return fs.Mount(dir, root, &fs.Options{
		MountOptions: fuse.MountOptions{
			DirectMount: true,
			AllowOther:  true,
			FsName:      "nsfs",
			Name:        "nsfs",
		},
	})
}
