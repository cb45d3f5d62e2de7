# The SSH listener of the admin namespace (docs/remote.md), when ants.sshd=[ADDR:]PORT
# is set: public keys from /cfg/authorized_keys, /cfg/$sysname/authorized_keys and
# ants.sshkey. It runs in the background, in a session of its own, after the boot.
if [ -n "$ants_sshd" ]; then
	ants sshd start
fi
