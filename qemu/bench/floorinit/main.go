// Command floorinit is the kernel floor of `make bench`: a static /init that does
// nothing but print the kernel's uptime as "FLOOR uptime=S" on the console and power
// the machine off. Its boot time is what any initramfs costs before its own work.
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

func main() {
	up := "?"
	if b, err := os.ReadFile("/proc/uptime"); err == nil {
		up = strings.Fields(string(b))[0]
	} else if err := syscall.Mount("proc", "/proc", "proc", 0, ""); err == nil {
		if b, err := os.ReadFile("/proc/uptime"); err == nil {
			up = strings.Fields(string(b))[0]
		}
	}
	fmt.Printf("\nFLOOR uptime=%s\n", up)
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
