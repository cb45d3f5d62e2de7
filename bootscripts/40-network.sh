# The network, from ip= (dhcp, none, or the kernel's
# client:server:gw:mask:host:dev:autoconf). Without ip=, a network root (venti=, an NFS root=)
# or the SSH listener (ants.sshd=) gets DHCP; otherwise only lo comes up.
case "$root" in nfs:* | nfs4:* | /dev/nfs) nfs=1 ;; *) nfs= ;; esac
if [ -n "$ip" ] || [ -n "$venti" ] || [ -n "$nfs" ]; then
	ants net
elif [ -n "$ants_sshd" ]; then
	ants net dhcp
else
	ants net none
fi
