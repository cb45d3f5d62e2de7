package mount

import (
	"reflect"
	"strings"
	"testing"
)

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:   "/a b",
		`\011\012`:  "\t\n",
		`\134`:      `\`,
		`/bs\134x`:  `/bs\x`,
		`\04`:       `\04`,
		`/short\04`: `/short\04`,
		`\999`:      `\999`,
		`/bad\09x`:  `/bad\09x`,
		`/plain`:    "/plain",
		`x\054y\\`:  `x,y\\`,
		`\400`:      `\400`,
		`trailing\`: `trailing\`,
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// sample has no optional field (line 1), one (2), two (3), a mount point and a
// source with escaped blanks, tabs and newlines (3, 4), a superblock option with an
// escaped comma (4), unbindable (5), and a "-" that is a mount point's name, not
// the separator (6).
const sample = `26 1 259:2 / / rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
22 26 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
42 26 259:3 /alice/My\040Files /srv/my\040share ro,relatime shared:33 master:7 - ext4 /dev/disk\040one rw
43 26 0:50 / /mnt/with\011tab\012nl\134bs rw - tmpfs my\040tmp rw,size=1k,note=a\054b
44 26 0:51 / /u rw unbindable - tmpfs t rw
45 26 0:52 / /- rw - tmpfs - rw

`

func TestParseInfo(t *testing.T) {
	ms, err := ParseInfo(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 6 {
		t.Fatalf("%d mounts, want 6", len(ms))
	}
	want := []Info{
		{ID: 26, Parent: 1, Dev: "259:2", Root: "/", Point: "/", Opts: []string{"rw", "relatime"},
			FSType: "ext4", Source: "/dev/nvme0n1p2", Super: []string{"rw", "errors=remount-ro"}},
		{ID: 22, Parent: 26, Dev: "0:21", Root: "/", Point: "/proc", Opts: []string{"rw", "nosuid", "nodev", "noexec", "relatime"},
			Optional: []string{"shared:13"}, FSType: "proc", Source: "proc", Super: []string{"rw"}},
		{ID: 42, Parent: 26, Dev: "259:3", Root: "/alice/My Files", Point: "/srv/my share", Opts: []string{"ro", "relatime"},
			Optional: []string{"shared:33", "master:7"}, FSType: "ext4", Source: "/dev/disk one", Super: []string{"rw"}},
		{ID: 43, Parent: 26, Dev: "0:50", Root: "/", Point: "/mnt/with\ttab\nnl\\bs", Opts: []string{"rw"},
			FSType: "tmpfs", Source: "my tmp", Super: []string{"rw", "size=1k", "note=a,b"}},
		{ID: 44, Parent: 26, Dev: "0:51", Root: "/", Point: "/u", Opts: []string{"rw"},
			Optional: []string{"unbindable"}, FSType: "tmpfs", Source: "t", Super: []string{"rw"}},
		{ID: 45, Parent: 26, Dev: "0:52", Root: "/", Point: "/-", Opts: []string{"rw"},
			FSType: "tmpfs", Source: "-", Super: []string{"rw"}},
	}
	for i := range want {
		if !reflect.DeepEqual(ms[i], want[i]) {
			t.Errorf("line %d:\n got %+v\nwant %+v", i+1, ms[i], want[i])
		}
	}
	for i, p := range []string{"private", "shared", "slave,shared", "private", "unbindable", "private"} {
		if got := ms[i].Propagation(); got != p {
			t.Errorf("%s: propagation %s, want %s", ms[i].Point, got, p)
		}
	}
	if ms[0].ReadOnly() || !ms[2].ReadOnly() {
		t.Error("ReadOnly: / is rw, /srv/my share ro")
	}
}

func TestParseInfoMalformed(t *testing.T) {
	for _, line := range []string{
		"1 2 3",
		"26 1 259:2 / / rw ext4 /dev/x rw",   // no separator
		"26 1 259:2 / / rw - ext4",           // no source
		"x 1 0:1 / / rw - ext4 /dev/x rw",    // bad id
		"1 y 0:1 / / rw - ext4 /dev/x rw",    // bad parent
		"26 1 259:2 / / - ext4 /dev/x rw rw", // the separator where the options go
	} {
		if _, err := ParseInfo(strings.NewReader(sample + line + "\n")); err == nil || !strings.Contains(err.Error(), "line 8") {
			t.Errorf("%q: %v", line, err)
		}
	}
}
