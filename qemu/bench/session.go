package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ants/ants/internal/qvm"
)

// session is one measured scenario: the VMs, servers and temporary directories it
// started, all ended by end. A VM's console goes to build/vmlogs/NAME.log, kept
// and named on stderr when the scenario failed.
type session struct {
	name    string
	verbose bool // the consoles on stderr as they come (-v)
	quiet   bool // a failure is expected (the memory bisection): drop the logs, say nothing
	logs    []string
	closers []func()
}

func newSession(name string, verbose bool) *session { return &session{name: name, verbose: verbose} }

// start boots a VM; its console log is NAME.log, or NAME-VMNAME.log when the
// options name the VM.
func (s *session) start(o qvm.Options) (*qvm.VM, error) {
	name := s.name
	if o.Name != "" {
		name += "-" + o.Name
	}
	o.LogFile = filepath.Join("build/vmlogs", name+".log")
	if s.verbose && o.Console != nil {
		o.Console = io.MultiWriter(o.Console, os.Stderr)
	} else if s.verbose {
		o.Console = os.Stderr
	}
	vm, err := qvm.Start(o)
	if err != nil {
		return nil, err
	}
	s.logs = append(s.logs, o.LogFile)
	s.closers = append(s.closers, vm.Close)
	return vm, nil
}

// tempDir is a fresh directory that end removes.
func (s *session) tempDir() (string, error) {
	d, err := os.MkdirTemp("", "ants-bench-")
	if err != nil {
		return "", err
	}
	s.closers = append(s.closers, func() { os.RemoveAll(d) })
	return d, nil
}

// copyTree copies the tree dir into a temporary directory of the session and
// returns the copy.
func (s *session) copyTree(dir string) (string, error) {
	tmp, err := s.tempDir()
	if err != nil {
		return "", err
	}
	return qvm.CopyTree(dir, tmp)
}

// diod starts a 9P server for dir, ended by end.
func (s *session) diod(dir string) (*qvm.Diod, error) {
	work, err := s.tempDir()
	if err != nil {
		return nil, err
	}
	d, err := qvm.StartDiod(dir, work)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, d.Close)
	return d, nil
}

// ganesha starts an NFSv4 server for dir, ended by end.
func (s *session) ganesha(dir string) (*qvm.Ganesha, error) {
	work, err := s.tempDir()
	if err != nil {
		return nil, err
	}
	g, err := qvm.StartGanesha(dir, work)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, g.Close)
	return g, nil
}

// end stops what the session started, last first, and returns err with the
// session's name. On success the console logs go; on failure they stay.
func (s *session) end(err error) error {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
	if err == nil || s.quiet {
		for _, l := range s.logs {
			os.Remove(l)
		}
	} else {
		fmt.Fprintf(os.Stderr, "bench: %s: consoles in %s\n", s.name, strings.Join(s.logs, " "))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}
