# The network, from ip= (dhcp, none, or the kernel's
# client:server:gw:mask:host:dev:autoconf). Without ip=, a network root (venti=)
# gets DHCP; otherwise only lo comes up.
if [ -n "$ip" ] || [ -n "$venti" ]; then
	ants net
else
	ants net none
fi
