package blockid

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// findTool looks a tool up in PATH and then in the sbin directories, which
// may be missing from a user's PATH.
func findTool(tool string) (string, error) {
	p, err := exec.LookPath(tool)
	if err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if fi, err := os.Stat(filepath.Join(dir, tool)); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return filepath.Join(dir, tool), nil
		}
	}
	return "", err
}

// need skips the test unless every tool is installed, and returns the path
// of the first.
func need(t testing.TB, tools ...string) string {
	t.Helper()
	var first string
	for i, tool := range tools {
		p, err := findTool(tool)
		if err != nil {
			t.Skipf("%s is not installed", tool)
		}
		if i == 0 {
			first = p
		}
	}
	return first
}

// run runs a tool (found as need finds it) with stdin, failing the test if
// it fails, and returns its standard output.
func run(t testing.TB, stdin string, tool string, args ...string) string {
	t.Helper()
	cmd := exec.Command(need(t, tool), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", tool, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// sparse creates an empty sparse file of the given size.
func sparse(t testing.TB, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// mkext4 makes an 8 MiB ext4 image with the given label and UUID.
func mkext4(t testing.TB, path, label, uuid string) {
	t.Helper()
	need(t, "mkfs.ext4")
	run(t, "", "mkfs.ext4", "-q", "-F", "-L", label, "-U", uuid, path, "8M")
}

// blkidExport runs `blkid -p -o export` on path and returns its tags
// (TYPE, UUID, LABEL, ...). Exit status 2 (nothing found) is no error.
func blkidExport(t testing.TB, path string, extra ...string) map[string]string {
	t.Helper()
	args := append([]string{"-p", "-o", "export"}, extra...)
	cmd := exec.Command(need(t, "blkid"), append(args, path)...)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 2 {
		return map[string]string{}
	} else if err != nil {
		t.Fatalf("blkid %s: %v", path, err)
	}
	tags := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			tags[k] = unescapeBlkid(v)
		}
	}
	return tags
}

// unescapeBlkid undoes the shell quoting of `blkid -o export` values.
func unescapeBlkid(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// extract copies length bytes at off of src into a new file dst, as the
// node of a partition would show them.
func extract(t testing.TB, src, dst string, off, length int64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	buf := make([]byte, length)
	n, _ := in.ReadAt(buf, off)
	if err := os.WriteFile(dst, buf[:n], 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeAt writes data into path at off without truncating it (dd
// conv=notrunc seek=).
func writeAt(t testing.TB, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
