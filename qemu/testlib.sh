# testlib.sh: what the qemu/*_test.sh self-tests share. Source it after setting
# NAME (the test's name, for messages and the temporary directory) and KEEP (1
# keeps the temporary directory). It makes $t (removed at exit, without crossing
# into file systems mounted below it), and gives ok, bad, check, now and since;
# end with `finish`.
# shellcheck shell=sh disable=SC2034,SC2153 # pass/fail are read by the sourcing script; NAME is set by it

t=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
	trap 'echo "$NAME: kept $t" >&2' EXIT
else
	trap 'rm -rf --one-file-system "$t"' EXIT
fi
trap 'exit 1' HUP INT TERM

pass=0
fail=0
ok() {
	pass=$((pass + 1))
	echo "ok   $*"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL $*"
}
check() { # check NAME COMMAND...: pass if COMMAND succeeds
	name=$1
	shift
	if "$@" >"$t/out" 2>&1; then ok "$name"; else
		bad "$name"
		sed 's/^/     | /' "$t/out" | head -n 20
	fi
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2fs", b - a }'; }
finish() { # prints the count; the status is the verdict
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
