package nsfile

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ants/ants/internal/mount"
)

func readSample(t *testing.T, name string) []Mount {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := mount.ParseInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestOrdered(t *testing.T) {
	ms := Ordered(readSample(t, "host.mountinfo"))
	pos := map[int]int{}
	for i, m := range ms {
		pos[m.ID] = i
	}
	if ms[0].Point != "/" {
		t.Errorf("first mount %s, want /", ms[0].Point)
	}
	for _, m := range ms {
		if p, ok := pos[m.Parent]; ok && p > pos[m.ID] {
			t.Errorf("%s before its parent", m.Point)
		}
	}
	if len(ms) != 19 {
		t.Errorf("Ordered lost mounts: %d", len(ms))
	}
	// a cycle does not hang
	if got := Ordered([]Mount{{ID: 1, Parent: 2}, {ID: 2, Parent: 1}}); len(got) != 2 {
		t.Errorf("cycle: %d mounts", len(got))
	}
}

func TestFromMountinfoHost(t *testing.T) {
	text := FormatAll(FromMountinfo(readSample(t, "host.mountinfo")))
	t.Log("\n" + text)
	for _, want := range []string{
		"mount -t ext4 -o rw,relatime,errors=remount-ro -p shared /dev/nvme0n1p2 /\n",
		"mount -t sysfs -o rw,nosuid,nodev,noexec,relatime -p shared sysfs /sys\n",
		"bind -o ro -p shared '/home/alice/My Files' /srv/share\n",
		"bind -o nosuid,nodev,noexec -p shared /run/netns /run/netns\n",
		`mount -t tmpfs -o rw,relatime,inode64 -p slave none '/mnt/with\ttab\nnl\\bs'` + "\n",
		"mount -t overlay -o rw,relatime,lowerdir=/var/lib/docker/overlay2/l/AAA:/var/lib/docker/overlay2/l/BBB,upperdir=/var/lib/docker/overlay2/abc/diff,workdir=/var/lib/docker/overlay2/abc/work -p private overlay /var/lib/docker/overlay2/abc/merged\n",
		"mount -t vfat -o rw,relatime -p slave,shared /dev/sdb1 /media/usb\n",
		"-p unbindable tmpfs /mnt/unb\n",
		"# bind of /@data from /dev/sdb (source not visible)\nmount -t btrfs -o rw,relatime,space_cache=v2,subvolid=257,subvol=/@data -p private /dev/sdb /data\n",
		"# bind of net:[4026532761] from nsfs (source not visible)\nmount -t nsfs -o rw -p private nsfs /run/netns/blue\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q", want)
		}
	}
	if !strings.HasPrefix(text, "mount -t ext4") {
		t.Error("/ is not first")
	}
	// What ns prints parses back to the same ops.
	ops, err := Parse(text, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatAll(ops); got != text {
		t.Errorf("reformatted text differs:\n%s", got)
	}
}

func TestFromMountinfoContainer(t *testing.T) {
	text := FormatAll(FromMountinfo(readSample(t, "container.mountinfo")))
	t.Log("\n" + text)
	for _, want := range []string{
		"-p slave overlay /\n",
		"bind -o ro,nosuid,nodev,noexec -p private /proc/sys /proc/sys\n",
		"# bind of /var/lib/docker/containers/c/resolv.conf from /dev/nvme0n1p2 (source not visible)\nmount -t ext4 -o rw,relatime,errors=remount-ro -p private /dev/nvme0n1p2 /etc/resolv.conf\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q", want)
		}
	}
}

func TestFromMountinfoUnion(t *testing.T) {
	ms := readSample(t, "union.mountinfo")
	text := FormatAll(FromMountinfo(ms))
	t.Log("\n" + text)
	for _, want := range []string{
		"mount -t tmpfs -o rw,nosuid,nodev,relatime,mode=700 -p private ants-union /run/ants/union/1\n",
		"bind -p private /tmp/ux/b /run/ants/union/1/old\n",
		`mount -t overlay -o 'rw,relatime,lowerdir+=/tmp/ux/a,lowerdir+=/run/ants/union/1/old,lowerdir+=/tmp/ux/we ird:x\\,y,redirect_dir=on' -p private ants-union /tmp/ux/b` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q", want)
		}
	}
	lowers, upper, _ := Layers(ms[4])
	if want := []string{"/tmp/ux/a", "/run/ants/union/1/old", "/tmp/ux/we ird:x,y"}; !reflect.DeepEqual(lowers, want) || upper != "" {
		t.Errorf("Layers = %q %q", lowers, upper)
	}
	lowers, upper, work := Layers(ms[5])
	if want := []string{"/tmp/a:b", "/run/ants/union/2/old"}; !reflect.DeepEqual(lowers, want) || upper != "/run/ants/union/2/upper" || work != "/run/ants/union/2/work" {
		t.Errorf("Layers = %q %q %q", lowers, upper, work)
	}
}

func TestExists(t *testing.T) {
	ms := readSample(t, "host.mountinfo")
	for _, c := range []struct {
		line string
		want bool
	}{
		{"mount -t sysfs -o rw,nosuid,nodev,noexec,relatime -p shared sysfs /sys", true},
		{"mount -t sysfs sysfs /sys", true},
		{"mount -t proc sysfs /sys", false},
		{"mount -t sysfs -o ro sysfs /sys", false},
		{"mount -t tmpfs -o size=1630412k tmpfs /run", true},
		{"mount -t tmpfs -o size=1k tmpfs /run", false},
		{"bind -o ro '/home/alice/My Files' /srv/share", true},
		{"bind '/home/alice/My Files' /srv/share", false},
		{"bind /home/alice /srv/share", false},
		{"bind -b /run/netns /run/netns", false},
		{"unmount /sys", false},
	} {
		op, err := ParseLine(c.line, nil)
		if err != nil {
			t.Fatal(err)
		}
		// paths of the sample do not exist here: resolve leaves them as they are
		if got := Exists(op, ms); got != c.want {
			t.Errorf("Exists(%s) = %v, want %v", c.line, got, c.want)
		}
	}
}

func TestPlanCopy(t *testing.T) {
	from := readSample(t, "host.mountinfo")
	to := append([]Mount(nil), from[:8]...) // has / and the first few
	to = append(to, Mount{ID: 90, Parent: 26, Dev: "0:90", Root: "/", Point: "/extra", FSType: "tmpfs"},
		Mount{ID: 91, Parent: 90, Dev: "0:91", Root: "/", Point: "/extra/sub", FSType: "tmpfs"},
		Mount{ID: 92, Parent: 24, Dev: "0:92", Root: "/", Point: "/dev/pts", FSType: "devpts"})
	p := PlanCopy(from, to, nil)
	var un, mo []string
	for _, m := range p.Unmount {
		un = append(un, m.Point)
	}
	for _, m := range p.Mount {
		mo = append(mo, m.Point)
	}
	if want := []string{"/dev/pts", "/extra/sub", "/extra"}; !reflect.DeepEqual(un, want) {
		t.Errorf("unmount %q, want %q", un, want)
	}
	if len(mo) != 11 || mo[0] != "/boot/efi" {
		t.Errorf("mount %q", mo)
	}
	p = PlanCopy(from, to, Terminal)
	if len(p.Unmount) != 2 {
		t.Errorf("-r still unmounts %v", p.Unmount)
	}
}
