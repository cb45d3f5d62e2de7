package rootsys

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func vars(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestFromVars(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars func(string) string
		kind string
		spec string
		data string
		err  string
	}{
		{name: "nothing", vars: vars(), kind: None},
		{name: "disk", vars: vars("root", "/dev/vda1"), kind: Disk, spec: "/dev/vda1"},
		{name: "label", vars: vars("root", "LABEL=demo", "rootflags", "noatime,errors=remount-ro"), kind: Disk, spec: "LABEL=demo", data: "errors=remount-ro"},
		{name: "venti alone", vars: vars("venti", "tcp!10.0.2.100!5640", "ants.aname", "/srv/root"), kind: NineP,
			data: "trans=tcp,port=5640,version=9p2000.L,msize=65536,access=client,aname=/srv/root,cache=mmap"},
		{name: "root=9p", vars: vars("root", "9p", "venti", "10.0.2.100", "rootflags", "cache=loose"), kind: NineP,
			data: "trans=tcp,port=564,version=9p2000.L,msize=65536,access=client,cache=loose"},
		{name: "virtfs", vars: vars("root", "virtfs:rootfs"), kind: VirtFS, spec: "rootfs", data: "trans=virtio,version=9p2000.L,msize=512000,access=client,cache=mmap"},
		{name: "9p without venti", vars: vars("root", "9p"), err: "needs venti="},
		{name: "bad venti", vars: vars("venti", "tcp!h!port"), err: "not a number"},
		{name: "virtfs no tag", vars: vars("root", "virtfs:"), err: "needs a mount tag"},
		{name: "nonsense root", vars: vars("root", "sda1"), err: "want /dev/NAME"},
		{name: "still ask", vars: vars("venti", "ask"), err: "still to be asked"},
		{name: "bad delay", vars: vars("root", "/dev/vda", "rootdelay", "x"), err: "rootdelay"},
		{name: "nfs4", vars: vars("root", "nfs4:10.0.2.100:/export"), kind: NFS, spec: "10.0.2.100:/export", data: "vers=4.1,proto=tcp,port=2049"},
		{name: "nfs with options", vars: vars("root", "nfs:srv:/export/root:vers=4.2,port=20490,noatime,timeo=50"), kind: NFS, spec: "srv:/export/root", data: "vers=4.2,proto=tcp,timeo=50,port=20490"},
		{name: "nfs rootflags", vars: vars("root", "nfs:srv:/x", "rootflags", "soft"), kind: NFS, spec: "srv:/x", data: "vers=4.1,proto=tcp,soft,port=2049"},
		{name: "nfs3", vars: vars("root", "nfs:srv:/x:vers=3"), kind: NFS, spec: "srv:/x", data: "vers=3,proto=tcp,mountproto=tcp,nolock,port=2049"},
		{name: "dev/nfs", vars: vars("root", "/dev/nfs", "nfsroot", "10.0.2.100:/export,vers=4.2"), kind: NFS, spec: "10.0.2.100:/export", data: "vers=4.2,proto=tcp,port=2049"},
		{name: "dev/nfs server from ip", vars: vars("root", "/dev/nfs", "nfsroot", "/export", "ip", "10.0.2.15:10.0.2.100:10.0.2.2:255.255.255.0::eth0:off"), kind: NFS, spec: "10.0.2.100:/export", data: "vers=4.1,proto=tcp,port=2049"},
		{name: "dev/nfs no nfsroot", vars: vars("root", "/dev/nfs"), err: "needs nfsroot="},
		{name: "dev/nfs no server", vars: vars("root", "/dev/nfs", "nfsroot", "/export", "ip", "dhcp"), err: "names no server"},
		{name: "nfs no path", vars: vars("root", "nfs:srv"), err: "want nfs:SERVER:/PATH"},
		{name: "nfs relative", vars: vars("root", "nfs4:srv:export"), err: "want nfs4:SERVER:/PATH"},
		{name: "nfs bad vers", vars: vars("root", "nfs:srv:/x:vers=2"), err: "vers=2"},
		{name: "nfs bad port", vars: vars("root", "nfs:srv:/x:port=99999"), err: "port"},
		{name: "overlay tmpfs", vars: vars("root", "nfs:srv:/x", "ants.overlay", "tmpfs:size=64m"), kind: NFS, spec: "srv:/x", data: "vers=4.1,proto=tcp,port=2049"},
		{name: "overlay bad", vars: vars("root", "nfs:srv:/x", "ants.overlay", "ramdisk"), err: "ants.overlay=ramdisk"},
		{name: "overlay bad size", vars: vars("root", "/dev/vda", "ants.overlay", "tmpfs:size=lots"), err: "ants.overlay=tmpfs:size=lots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FromVars(tc.vars)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != tc.kind || s.Spec != tc.spec || s.Data != tc.data {
				t.Errorf("got kind %q spec %q data %q; want %q %q %q", s.Kind, s.Spec, s.Data, tc.kind, tc.spec, tc.data)
			}
			if s.Init != "/sbin/init" {
				t.Errorf("init = %q", s.Init)
			}
		})
	}
}

func TestFromVarsFlags(t *testing.T) {
	s, err := FromVars(vars("root", "/dev/vda1", "ro", "1", "rootwait", "1", "rootdelay", "2", "init", "/bin/sh", "ants.initargs", "-x  -y", "rootflags", "nosuid,nodev"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Flags != unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV || !s.Wait || s.Delay != 2*time.Second || s.Init != "/bin/sh" || strings.Join(s.Args, ",") != "-x,-y" {
		t.Errorf("%+v", s)
	}
	s, _ = FromVars(vars("root", "/dev/vda1", "ro", "1", "rw", "1"))
	if s.Flags&unix.MS_RDONLY != 0 {
		t.Error("rw after ro still mounts read-only")
	}
}

func TestEncodeDecode(t *testing.T) {
	s, _ := FromVars(vars("venti", "tcp!10.0.2.100!5640", "ants.initargs", "a b"))
	back, err := Decode(s.Encode())
	if err != nil || back.String() != s.String() || back.Data != s.Data || len(back.Args) != 2 {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if _, err := Decode("{"); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestString(t *testing.T) {
	s, _ := FromVars(vars("venti", "h:1", "ants.aname", "/x"))
	if got := s.String(); got != "9p tcp!h!1 aname=/x" {
		t.Errorf("String() = %q", got)
	}
}

func TestServerLists(t *testing.T) {
	s, err := FromVars(vars("venti", "tcp!a!564,tcp!b!5640,c"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Servers, " "); got != "tcp!a!564 tcp!b!5640 tcp!c!564" || s.Venti.Host != "a" {
		t.Fatalf("servers %q, venti %v", got, s.Venti)
	}
	n := s.Next("tcp!a!564")
	if got := strings.Join(n.Servers, " "); got != "tcp!b!5640 tcp!c!564 tcp!a!564" || n.Venti.Host != "b" || n.Venti.Port != 5640 {
		t.Errorf("Next(a): servers %q, venti %v", got, n.Venti)
	}
	if got := strings.Join(s.Next("tcp!c!564").Servers, " "); got != "tcp!a!564 tcp!b!5640 tcp!c!564" {
		t.Errorf("Next(c) = %q, want the list from a again", got)
	}
	if got := strings.Join(s.Next("").Servers, " "); got != "tcp!b!5640 tcp!c!564 tcp!a!564" {
		t.Errorf("Next(\"\") = %q", got)
	}
	if one := (Source{Kind: NineP, Servers: []string{"tcp!a!1"}}).Next("tcp!a!1"); len(one.Servers) != 1 {
		t.Errorf("a list of one turned into %q", one.Servers)
	}
	nfs, err := FromVars(vars("root", "nfs4:s1,s2:/export"))
	if err != nil {
		t.Fatal(err)
	}
	if nfs.NFSServer != "s1" || strings.Join(nfs.Servers, " ") != "s1 s2" {
		t.Errorf("nfs list: %q first %q", nfs.Servers, nfs.NFSServer)
	}
	if m := nfs.Next("s1"); m.NFSServer != "s2" || m.Spec != "s2:/export" {
		t.Errorf("nfs Next: %q %q", m.NFSServer, m.Spec)
	}
	if _, err := FromVars(vars("venti", "tcp!a!564,,b")); err == nil || !strings.Contains(err.Error(), "server 2 of the list") {
		t.Errorf("an empty entry: %v", err)
	}
	if _, err := FromVars(vars("root", "nfs:a,,b:/x")); err == nil {
		t.Errorf("an empty NFS server was taken")
	}
}

func TestWithOption(t *testing.T) {
	for _, tc := range [][3]string{
		{"trans=tcp,port=564,msize=1", "5640", "trans=tcp,port=5640,msize=1"},
		{"trans=tcp", "1", "trans=tcp,port=1"},
	} {
		if got := withOption(tc[0], "port", tc[1]); got != tc[2] {
			t.Errorf("withOption(%q) = %q, want %q", tc[0], got, tc[2])
		}
	}
}

func TestOptionHelpers(t *testing.T) {
	data := "trans=tcp,port=564,version=9p2000.L,msize=65536"
	if v := optionValue(data, "trans"); v != "tcp" {
		t.Errorf("optionValue trans = %q", v)
	}
	if v := optionValue(data, "aname"); v != "" {
		t.Errorf("optionValue aname = %q", v)
	}
	got := withoutOption(withOption(withOption(withOption(data, "trans", "fd"), "rfdno", "7"), "wfdno", "7"), "port")
	if want := "trans=fd,version=9p2000.L,msize=65536,rfdno=7,wfdno=7"; got != want {
		t.Errorf("fd options = %q, want %q", got, want)
	}
}
