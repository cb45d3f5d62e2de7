# /n/ns/PID/ns: every process's mount namespace as a file, read and written in ns
# syntax (docs/ns.md), as ANTS' /proc/PID/ns. Served over FUSE by nsfs.
ants modprobe fuse
nsfs -d /n/ns
