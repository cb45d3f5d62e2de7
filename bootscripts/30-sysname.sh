# sysname names the machine: it becomes the hostname and selects /cfg/$sysname/,
# whose boot.conf adds variables here (the kernel command line still wins) and
# whose *.sh scripts run after these default ones.
if [ -n "$sysname" ]; then
	hostname "$sysname"
fi
if [ -n "$sysname" ] && [ -f "/cfg/$sysname/boot.conf" ]; then
	ants conf "/cfg/$sysname/boot.conf"
	ants ask
fi
