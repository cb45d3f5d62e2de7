# The network, from ip= (dhcp, none, or the kernel's
# client:server:gw:mask:host:dev:autoconf). Without ip=, a network root (venti=, an NFS root=)
# or the SSH listener (ants.sshd=) gets DHCP; otherwise only lo comes up.
case "$root" in nfs:* | nfs4:* | /dev/nfs) nfs=1 ;; *) nfs= ;; esac
if [ -n "$ip" ] || [ -n "$venti" ] || [ -n "$nfs" ]; then
	ants net
	# A sysname from DHCP (written by ants net when none was set otherwise): the
	# hostname and /cfg/$sysname/ follow it, as 30-sysname.sh does.
	name=
	if [ -f /env/sysname ]; then
		name=$(cat /env/sysname)
	fi
	if [ -n "$name" ] && [ "$name" != "$sysname" ]; then
		hostname "$name"
		if [ -f "/cfg/$name/boot.conf" ]; then
			ants conf "/cfg/$name/boot.conf"
		fi
	fi
	# A network root's server may keep this machine's /cfg/$sysname/.
	if [ -n "$venti" ] || [ -n "$nfs" ]; then
		ants netcfg
	fi
elif [ -n "$ants_sshd" ]; then
	ants net dhcp
else
	ants net none
fi
