// Command blkid prints the file systems and partition tables of block devices
// in util-linux's format, from internal/blockid (what root=LABEL= uses):
//
//	/dev/vda: PTUUID="deadbeef" PTTYPE="dos"
//	/dev/vda1: LABEL="demoroot" UUID="0e4d...1c01" TYPE="ext4" PARTUUID="deadbeef-01"
//
// u-root's blkid listed no devices in the image.
//
//	blkid [-o full|value|device|export] [-s TAG]... [-t TAG=VALUE] [DEV...]
//	blkid -L LABEL | -U UUID
//
// With no DEV it lists every device of /sys/class/block that has something to
// show; a DEV that is no block device (a file system image) is probed as a file.
// Exit status as util-linux's: 0 when something was printed, 2 when nothing was
// found, 4 for bad usage. -c FILE and -p are accepted and do nothing (there is no
// cache; every device is always probed).
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ants/ants/internal/blockid"
)

func main() { os.Exit(run(os.Args[1:], "/sys/class/block", "/dev", os.Stdout, os.Stderr)) }

const usage = "usage: blkid [-o full|value|device|export] [-s TAG]... [-t TAG=VALUE] [DEV...]\n       blkid -L LABEL | -U UUID"

// tags gives d's tags in the order util-linux prints them.
func tags(d blockid.Dev) [][2]string {
	var out [][2]string
	for _, kv := range [][2]string{
		{"LABEL", d.Label}, {"UUID", d.UUID}, {"TYPE", d.FSType},
		{"PTUUID", d.PTUUID}, {"PTTYPE", d.PTType},
		{"PARTLABEL", d.PartLabel}, {"PARTUUID", d.PartUUID},
	} {
		if kv[1] != "" {
			out = append(out, kv)
		}
	}
	return out
}

// escape puts a backslash before each of the characters in set, as util-linux's
// safe_print does.
func escape(s, set string) string {
	if !strings.ContainsAny(s, set) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(set, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// matches reports whether d has tag key with value val (identifiers without regard
// to case, as Find compares them).
func matches(d blockid.Dev, key, val string) bool {
	for _, kv := range tags(d) {
		if kv[0] != key {
			continue
		}
		if strings.HasSuffix(key, "UUID") {
			return strings.EqualFold(kv[1], val)
		}
		return kv[1] == val
	}
	return false
}

func run(args []string, sysBlock, devDir string, stdout, stderr io.Writer) int {
	output := "full"
	var show []string   // -s: the tags to print, all when empty
	var token [2]string // -t, -L, -U
	one := false        // -L, -U: the first device only, as util-linux prints one
	var devArgs []string
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "blkid: "+format+"\n%s\n", append(a, usage)...)
		return 4
	}
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		if a == "--" {
			devArgs = append(devArgs, args...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			devArgs = append(devArgs, a)
			continue
		}
		opt, v := a[1], a[2:]
		switch opt {
		case 'p':
			if v != "" {
				return bad("unknown option %s", a)
			}
			continue
		case 'o', 's', 't', 'L', 'U', 'c':
		default:
			return bad("unknown option %s", a)
		}
		if v == "" {
			if len(args) == 0 {
				return bad("-%c needs an argument", opt)
			}
			v, args = args[0], args[1:]
		}
		switch opt {
		case 'o':
			switch v {
			case "full", "value", "device", "export":
				output = v
			default:
				return bad("-o %s: not one of full, value, device, export", v)
			}
		case 's':
			show = append(show, strings.ToUpper(v))
		case 't':
			k, val, ok := strings.Cut(v, "=")
			if !ok || k == "" {
				return bad("-t %s: not TAG=VALUE", v)
			}
			token = [2]string{strings.ToUpper(k), strings.Trim(val, `"`)}
		case 'L':
			token, output, one = [2]string{"LABEL", v}, "device", true
		case 'U':
			token, output, one = [2]string{"UUID", v}, "device", true
		}
	}

	var devs []blockid.Dev
	listed, err := blockid.List(sysBlock, devDir)
	if err != nil && len(devArgs) == 0 {
		fmt.Fprintf(stderr, "blkid: %v\n", err)
		return 2
	}
	if len(devArgs) == 0 {
		devs = listed
	}
	for _, a := range devArgs {
		d, err := lookup(listed, a)
		if err != nil {
			fmt.Fprintf(stderr, "blkid: %v\n", err)
			continue
		}
		devs = append(devs, d)
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	printed := 0
	for _, d := range devs {
		if token[0] != "" && !matches(d, token[0], token[1]) {
			continue
		}
		var ts [][2]string
		for _, kv := range tags(d) {
			if len(show) == 0 || contains(show, kv[0]) {
				ts = append(ts, kv)
			}
		}
		if len(ts) == 0 {
			continue
		}
		switch output {
		case "full":
			fmt.Fprintf(out, "%s:", d.Path)
			for _, kv := range ts {
				fmt.Fprintf(out, " %s=\"%s\"", kv[0], escape(kv[1], `"\`))
			}
			out.WriteString("\n")
		case "value":
			for _, kv := range ts {
				fmt.Fprintf(out, "%s\n", kv[1])
			}
		case "device":
			fmt.Fprintf(out, "%s\n", d.Path)
		case "export":
			if printed > 0 {
				out.WriteString("\n")
			}
			fmt.Fprintf(out, "DEVNAME=%s\n", d.Path)
			for _, kv := range ts {
				fmt.Fprintf(out, "%s=%s\n", kv[0], escape(kv[1], " \\\"'$`<>"))
			}
		}
		printed++
		if one {
			break
		}
	}
	if printed == 0 {
		return 2
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lookup finds a device argument among the listed devices by its node, a link to
// it or its kernel name, or else probes it as a file (a file system image).
func lookup(listed []blockid.Dev, arg string) (blockid.Dev, error) {
	real, err := filepath.EvalSymlinks(arg)
	if err != nil {
		real = arg
	}
	for _, d := range listed {
		if d.Path == arg || d.Path == real || d.Name == arg {
			return d, nil
		}
	}
	f, err := os.Open(arg)
	if err != nil {
		return blockid.Dev{}, err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return blockid.Dev{}, err
	}
	d := blockid.Dev{Name: filepath.Base(arg), Path: arg}
	d.FSType, d.UUID, d.Label = blockid.Probe(f, size)
	return d, nil
}
