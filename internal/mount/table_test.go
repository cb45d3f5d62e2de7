package mount

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestEntrySteps(t *testing.T) {
	for _, tc := range []struct {
		e    Entry
		want []step
	}{
		{Entry{Source: "proc", Target: "/proc", FSType: "proc", Flags: unix.MS_NOSUID, Data: "hidepid=2"},
			[]step{{"mount", "proc", "proc", unix.MS_NOSUID, "hidepid=2"}}},
		{Entry{Source: "/a", Target: "/b", Flags: unix.MS_BIND},
			[]step{{"bind", "/a", "", unix.MS_BIND, ""}}},
		{Entry{Source: "/a", Target: "/b", Flags: unix.MS_BIND | unix.MS_REC},
			[]step{{"bind", "/a", "", unix.MS_BIND | unix.MS_REC, ""}}},
		// The flags a new bind ignores come by a remount, without MS_REC.
		{Entry{Source: "/a", Target: "/b", Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY},
			[]step{{"bind", "/a", "", unix.MS_BIND | unix.MS_REC, ""},
				{"remount", "", "", unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY, ""}}},
		{Entry{Source: "/run/ants/rootdev", Target: "/dev", Flags: unix.MS_BIND | unix.MS_NOSUID | unix.MS_NOEXEC},
			[]step{{"bind", "/run/ants/rootdev", "", unix.MS_BIND, ""},
				{"remount", "", "", unix.MS_BIND | unix.MS_REMOUNT | unix.MS_NOSUID | unix.MS_NOEXEC, ""}}},
	} {
		if got := tc.e.steps(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v:\n got %+v\nwant %+v", tc.e, got, tc.want)
		}
	}
}

func TestEntryString(t *testing.T) {
	for _, tc := range []struct {
		e    Entry
		want string
	}{
		{Entry{Source: "proc", Target: "/proc", FSType: "proc", Flags: unix.MS_NOSUID}, "proc on /proc (proc)"},
		{Entry{Source: "/a", Target: "/b", Flags: unix.MS_BIND | unix.MS_RDONLY}, "bind /a on /b (MS_RDONLY|MS_BIND)"},
	} {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestEntryUnder(t *testing.T) {
	e := Entry{Source: "proc", Target: "/proc", FSType: "proc"}
	for root, want := range map[string]string{"": "/proc", "/": "/proc", "/run/ants/root": "/run/ants/root/proc", "/r/": "/r/proc"} {
		if got := e.Under(root); got.Target != want || got.Source != "proc" {
			t.Errorf("Under(%q) = %+v, want target %s", root, got, want)
		}
	}
	if e.Target != "/proc" {
		t.Error("Under changed the entry")
	}
}

func TestIsMountPoint(t *testing.T) {
	if !IsMountPoint("/proc") {
		t.Error("/proc is not a mount point")
	}
	if !IsMountPoint("/") {
		t.Error("/ is not a mount point")
	}
	if IsMountPoint(t.TempDir()) {
		t.Error("a fresh temp dir is a mount point")
	}
	if IsMountPoint("/no/such/dir") {
		t.Error("a missing dir is a mount point")
	}
}
