# The network, from ip= (dhcp, none, or the kernel's
# client:server:gw:mask:host:dev:autoconf). Without ip=, a network root (venti=)
# or the SSH listener (ants.sshd=) gets DHCP; otherwise only lo comes up.
if [ -n "$ip" ] || [ -n "$venti" ]; then
	ants net
elif [ -n "$ants_sshd" ]; then
	ants net dhcp
else
	ants net none
fi
