package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ants/ants/internal/listfile"
	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/mod/modfile"
)

// TestCommandsAreTools: every u-root command of the image is a tool of go.mod, so
// that `go mod tidy` keeps what mkuimage needs to build it, and every tool is a
// command of the image, a program the build runs or part of the bench's stock image.
func TestCommandsAreTools(t *testing.T) {
	cmds, err := listfile.Read("commands.txt")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	tools := map[string]bool{}
	for _, tl := range mf.Tool {
		tools[tl.Path] = true
	}
	inImage := map[string]bool{}
	for _, c := range cmds {
		inImage[c] = true
		if filepath.Dir(filepath.Dir(c)) == "github.com/ants/ants" {
			if _, err := os.Stat(filepath.Join("..", c[len("github.com/ants/ants/"):])); err != nil {
				t.Errorf("commands.txt: %s: no such package in the tree", c)
			}
			continue
		}
		if !tools[c] {
			t.Errorf("commands.txt: %s is not a tool in go.mod", c)
		}
	}
	others := map[string]bool{
		"github.com/u-root/mkuimage/cmd/mkuimage": true, // builds the bench's stock u-root image
		"honnef.co/go/tools/cmd/staticcheck":      true, // make check
		"github.com/u-root/u-root/cmds/core/init": true, // the bench's stock u-root image
		"github.com/u-root/u-root/cmds/core/gosh": true,
	}
	for p := range tools {
		if !inImage[p] && !others[p] {
			t.Errorf("go.mod: tool %s is neither in commands.txt nor used by the build", p)
		}
	}
	for p := range others {
		if !tools[p] {
			t.Errorf("go.mod: %s is not a tool", p)
		}
	}
}

func TestReadList(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l")
	os.WriteFile(p, []byte("# comment\n\n a \nb\n  # another\n"), 0o644)
	got, err := listfile.Read(p)
	if err != nil || len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("readList = %q, %v", got, err)
	}
	if _, err := listfile.Read(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing list is no error")
	}
}

func TestOnlyRelease(t *testing.T) {
	dir := t.TempDir()
	if _, err := onlyRelease(dir); err == nil {
		t.Error("no release: no error")
	}
	os.Mkdir(filepath.Join(dir, "6.1.0-1-amd64"), 0o755)
	if got, err := onlyRelease(dir); err != nil || filepath.Base(got) != "6.1.0-1-amd64" {
		t.Errorf("one release: %q, %v", got, err)
	}
	os.Mkdir(filepath.Join(dir, "6.1.0-2-amd64"), 0o755)
	if _, err := onlyRelease(dir); err == nil {
		t.Error("two releases: no error")
	}
}

// TestBuildAdmin builds the admin program as the image gets it and runs it by its
// names: antsh is the shell, another name says what the program is. (As init it
// refuses to run unless it is PID 1.)
func TestBuildAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	work := t.TempDir()
	t.Chdir("..") // the builder runs from the top of the tree
	names, err := buildAdmin(work)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, " ") != "admin init antsh" {
		t.Errorf("names in /bbin: %q", names)
	}
	dir := filepath.Join(work, "admin")
	out, err := exec.Command(filepath.Join(dir, "antsh"), "-c", "echo $((6*7))").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Errorf("antsh -c: %q, %v", out, err)
	}
	out, err = exec.Command(filepath.Join(dir, "init")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "pid 1") {
		t.Errorf("init, not as PID 1: %q, %v; want a refusal", out, err)
	}
	out, err = exec.Command(filepath.Join(dir, "admin")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "run it as init (PID 1) or antsh") {
		t.Errorf("admin by its own name: %q, %v", out, err)
	}
}

// TestBuildImage builds a small image through mkuimage's Go API as the builder
// builds the real one: the busybox binary and a link for each command, the files
// as given (a symlink stays one), u-root's base, /init and /bin/sh into /bbin. A
// package that does not exist is an error that names it.
func TestBuildImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	dir := t.TempDir()
	t.Chdir("..") // the builder runs from the top of the tree
	os.WriteFile(filepath.Join(dir, "admin"), []byte("#!/bin/sh\n"), 0o755)
	os.Symlink("admin", filepath.Join(dir, "init"))
	raw := filepath.Join(dir, "image.cpio")
	files := []string{dir + "/admin:bbin/admin", dir + "/init:bbin/init", "bootscripts:lib/boot"}
	if err := buildImage(raw, []string{"github.com/ants/ants/cmds/halt"}, files); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs {
		switch r.Mode & cpio.S_IFMT {
		case cpio.S_IFREG:
			got[r.Name] = "file"
		case cpio.S_IFLNK:
			b, _ := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
			got[r.Name] = "-> " + string(b)
		case cpio.S_IFCHR:
			got[r.Name] = fmt.Sprintf("char %d:%d", r.Rmajor, r.Rminor)
		}
	}
	for name, want := range map[string]string{
		"bbin/bb":                "file",
		"bbin/halt":              "-> bb",
		"bbin/admin":             "file",
		"bbin/init":              "-> admin",
		"init":                   "-> bbin/init",
		"bin/sh":                 "-> ../bbin/antsh",
		"dev/console":            "char 5:1",
		"lib/boot/10-modules.sh": "file",
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}

	err = buildImage(filepath.Join(dir, "bad.cpio"), []string{"github.com/ants/ants/cmds/nosuch"}, nil)
	if err == nil || !strings.Contains(err.Error(), "cmds/nosuch") {
		t.Errorf("an unknown package: %v; want an error that names it", err)
	}
}

// TestSquash: the busybox binary leaves the cpio for the squashfs (an empty file
// keeps its place and mode), the modules tree goes in beside it, and the cpio gets
// the squashfs and an empty lib/modules; everything else is as it was. The
// squashfs is a real one: unsquashfs lists bb and the modules at its top.
func TestSquash(t *testing.T) {
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		t.Skip("needs mksquashfs (apt-get install squashfs-tools)")
	}
	dir := t.TempDir()
	raw := filepath.Join(dir, "image.cpio")
	f, err := os.Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	w := cpio.Newc.Writer(f)
	recs := []cpio.Record{
		cpio.Directory("bbin", 0o755),
		cpio.StaticFile("bbin/bb", "the busybox", 0o755),
		cpio.Symlink("bbin/ls", "bb"),
		cpio.StaticFile("bbin/admin", "the admin program", 0o755),
		cpio.Directory("lib", 0o755),
	}
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	cpio.WriteTrailer(w)
	f.Close()
	mods := filepath.Join(dir, "root/lib/modules")
	os.MkdirAll(filepath.Join(mods, "6.1/kernel"), 0o755)
	os.WriteFile(filepath.Join(mods, "6.1/kernel/x.ko"), []byte("a module"), 0o644)
	if err := squash(raw, mods, dir); err != nil {
		t.Fatal(err)
	}
	f, err = os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range out {
		b, _ := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		switch r.Mode & cpio.S_IFMT {
		case cpio.S_IFREG:
			got[r.Name] = fmt.Sprintf("file %o %d", r.Mode&0o777, len(b))
			if r.Name == "ants.sqfs" && string(b[:4]) != "hsqs" {
				t.Errorf("ants.sqfs does not start with squashfs' magic: %q", b[:4])
			}
		case cpio.S_IFDIR:
			got[r.Name] = "dir"
		case cpio.S_IFLNK:
			got[r.Name] = "-> " + string(b)
		}
	}
	for name, want := range map[string]string{
		"bbin/bb":     "file 755 0",
		"bbin/ls":     "-> bb",
		"bbin/admin":  "file 755 17",
		"lib/modules": "dir",
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
	if !strings.HasPrefix(got["ants.sqfs"], "file 444 ") {
		t.Errorf("ants.sqfs: %q, want a read-only file", got["ants.sqfs"])
	}
	ls, err := exec.Command("unsquashfs", "-l", "-d", "", filepath.Join(dir, "ants.sqfs")).CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs: %v: %s", err, ls)
	}
	for _, p := range []string{"\n/bb\n", "\n/modules/6.1/kernel/x.ko\n"} {
		if !strings.Contains("\n"+string(ls), p) {
			t.Errorf("the squashfs lacks %q:\n%s", strings.TrimSpace(p), ls)
		}
	}
	// A cpio without the busybox is an error that says so.
	f2, _ := os.Create(raw)
	w = cpio.Newc.Writer(f2)
	cpio.WriteRecords(w, recs[:1])
	cpio.WriteTrailer(w)
	f2.Close()
	if err := squash(raw, mods, dir); err == nil || !strings.Contains(err.Error(), "has no bbin/bb") {
		t.Errorf("a cpio without bbin/bb: %v", err)
	}
}
