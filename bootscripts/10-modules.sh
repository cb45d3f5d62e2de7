# Drivers: load the module of every device present (coldplug: each device's
# modalias in /sys is matched against modules.alias), then the modules named in
# ants.modules (commas or spaces between them).
ants coldplug
if [ -n "$ants_modules" ]; then
	ants modprobe ${ants_modules//,/ }
fi
