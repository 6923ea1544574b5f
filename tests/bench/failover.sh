# failover.sh: failover time on the lab (issue 13), sourced by tests/bench/run when BENCH_ONLY
# names "failover". It needs the lab: run it under the lab lock, and take the lab down after,
#   flock -o /var/tmp/drover-lab.flock bash -c 'BENCH_ONLY=failover make bench; bash hack/lab down'
# Three hosts, each fenced through its simulated BMC with the real fence_ipmilan (as
# test_fence). Every round: two shared-storage guests are put on lab-c (`drover apply`,
# pinned, then unpinned), `drover run --dir --detect-after D` watches, lab-c's power is cut
# (`hack/lab stop-host`), and the time from the cut to both guests running on other hosts
# (virsh domstate on lab-a and lab-b, polled every 0.2 s) is the failover time; the BMC's
# power log says when the fence reached it. Then lab-c is powered on again and drover removes
# its stale copies before the next round, which starts from a fresh state dir.
# Uses lab.sh's now, elapsed and median (sourced before it).
# Figures: the median failover time against the detection time configured (D).
# Knobs: BENCH_FAILOVER_ROUNDS=5, BENCH_FAILOVER_DETECT_S=10.

fo_rounds=${BENCH_FAILOVER_ROUNDS:-5}
fo_detect=${BENCH_FAILOVER_DETECT_S:-10}
fo_vms=(bench-fo-1 bench-fo-2)
fo_lab=/var/tmp/drover-lab
fo_victim=lab-c
fo_rows=()
fo_totals=()
fo_fences=()

# fo_uri NAME: the host's qemu+tcp URI (hack/lab hosts).
fo_uri() { awk -v n="$1" '$1 == n {print $2}' "$tmp/fo/hosts.txt"; }

# fo_state NAME VM: the guest's state on host NAME ("" when it is not defined there).
fo_state() { virsh -q -c "$(fo_uri "$1")" domstate "$2" 2>/dev/null || true; }

fo_write_hosts() {
	local name uri addr bmc_addr port user pwfile
	: >"$tmp/fo/m/hosts.yaml"
	while read -r name uri addr; do
		read -r bmc_addr port user pwfile < <(bash "$root/hack/lab" bmc "$name")
		cat >>"$tmp/fo/m/hosts.yaml" <<-EOF
		---
		apiVersion: drover.io/v1alpha1
		kind: Host
		metadata: {name: $name}
		spec:
		  uri: "$uri"
		  migrationAddress: $addr
		  reservedMemory: "0"
		  fencing:
		    agent: fence_ipmilan
		    passwordFile: $pwfile
		    timeoutSeconds: 30
		    options: {ip: "$bmc_addr", ipport: "$port", username: $user, lanplus: "1", cipher: "3", power_timeout: "20"}
		EOF
	done <"$tmp/fo/hosts.txt"
}

# fo_write_vms PIN: both guests' manifests, pinned to PIN ("" for unpinned).
fo_write_vms() {
	local vm
	for vm in "${fo_vms[@]}"; do
		{
			printf 'apiVersion: drover.io/v1alpha1\nkind: VirtualMachine\nmetadata: {name: %s}\nspec:\n' "$vm"
			[ -z "$1" ] || printf '  host: %s\n' "$1"
			cat <<-EOF
			  storage: shared
			  domain:
			    type: $(cat "$fo_lab/accel")
			    memory: 32Mi
			    kernel: $fo_lab/shared/guest.elf
			    cmdline: "dirty_mib=1 rate_mibps=1"
			    disks: [{path: "$fo_lab/shared/$vm.qcow2"}]
			EOF
		} >"$tmp/fo/m/$vm.yaml"
	done
}

# fo_wait TEST LIMIT_S: polls TEST (a function) every 0.2 s for at most LIMIT_S seconds.
fo_wait() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		"$1" && return 0
		sleep 0.2
	done
	return 1
}

# Both guests run on the victim and are defined nowhere else.
fo_on_victim() {
	local vm name
	for vm in "${fo_vms[@]}"; do
		[ "$(fo_state "$fo_victim" "$vm")" = running ] || return 1
		for name in lab-a lab-b; do
			[ -z "$(fo_state "$name" "$vm")" ] || return 1
		done
	done
}

# Both guests run on a host other than the victim.
fo_elsewhere() {
	local vm
	for vm in "${fo_vms[@]}"; do
		[ "$(fo_state lab-a "$vm")" = running ] || [ "$(fo_state lab-b "$vm")" = running ] ||
			return 1
	done
}

# The victim holds no copy of either guest (drover removed the stale ones).
fo_victim_clean() {
	local vm
	for vm in "${fo_vms[@]}"; do
		[ -z "$(fo_state "$fo_victim" "$vm")" ] || return 1
	done
}

# fo_off_time N: when the victim's BMC sent its N-th power-off (seconds since the epoch).
fo_off_time() {
	local stamp
	stamp=$(awk -v n="$1" '$2 == "set" && $3 == "power" && $4 == "0" && ++k == n {print $1}' \
		"$fo_lab/bmc/$fo_victim/power.log" 2>/dev/null || true)
	[ -n "$stamp" ] && date -d "$stamp" +%s.%N || echo nan
}

fo_offs() {
	{ awk '$2 == "set" && $3 == "power" && $4 == "0"' "$fo_lab/bmc/$fo_victim/power.log" 2>/dev/null ||
		true; } | wc -l
}

# fo_apply STATE: `drover apply` of the manifests until it converges, at most 3 times (a move
# onto the host just powered on again may fail or be held back once; apply plans afresh from
# what it observes, so a retry is safe). Every output not converged goes to the log.
fo_apply() {
	local n
	for n in 1 2 3; do
		"$drover" apply -f "$tmp/fo/m" --state-dir "$1" --stop-timeout 2 >"$tmp/fo/apply.out" 2>&1 &&
			return 0
		log "failover: drover apply, attempt $n, did not converge:"
		sed 's/^/  /' "$tmp/fo/apply.out" >&2
		sleep 5
	done
	return 1
}

# One round: @1 its number. Appends to fo_rows, fo_totals, fo_fences.
fo_round() {
	local r=$1 state=$tmp/fo/s-$1 runlog=$tmp/fo/run-$1.log pid offs t0 t1 off total fence
	fo_write_vms "$fo_victim"
	fo_apply "$state" || die "failover round $r: drover apply could not put the guests on $fo_victim"
	fo_wait fo_on_victim 120 || die "failover round $r: the guests are not on $fo_victim alone"
	fo_write_vms ""
	fo_apply "$state" || die "failover round $r: drover apply (unpinned) failed"
	"$drover" run --dir "$tmp/fo/m" --state-dir "$state" --stop-timeout 2 --metrics-addr off \
		--detect-after "$fo_detect" >"$runlog" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_line "$runlog" 'reconciled' 120 "$pid" ||
		{ tail -n 20 "$runlog" >&2; die "failover round $r: drover run did not reconcile"; }
	sleep 2   # a few probes of every host answered: they are known healthy
	offs=$(fo_offs)
	t0=$(now)
	bash "$root/hack/lab" stop-host "$fo_victim" >/dev/null 2>&1
	if fo_wait fo_elsewhere 300; then
		t1=$(now)
		total=$(elapsed "$t0" "$t1")
	else
		total=nan
	fi
	off=$(fo_off_time $((offs + 1)))
	fence=nan
	[ "$off" = nan ] || fence=$(elapsed "$t0" "$off")
	log "failover round $r: power cut → BMC power-off ${fence} s, → both guests running elsewhere ${total} s"
	fo_rows+=("| $((r + 1)) | $fence s | $total s |")
	fo_totals+=("$total")
	fo_fences+=("$fence")
	bash "$root/hack/lab" start-host "$fo_victim" >/dev/null 2>&1
	fo_wait fo_victim_clean 180 ||
		{ tail -n 20 "$runlog" >&2; die "failover round $r: $fo_victim kept its stale copies"; }
	stop "$pid"
	[ "$total" != nan ] || { tail -n 20 "$runlog" >&2; die "failover round $r: no failover in 300 s"; }
}

bench_failover() {
	local vm r
	mkdir -p "$tmp/fo/m"
	bash "$root/hack/lab" up 3 >/dev/null
	bash "$root/hack/lab" hosts >"$tmp/fo/hosts.txt"
	fo_write_hosts
	for vm in "${fo_vms[@]}"; do
		virsh -q -c "$(fo_uri "$fo_victim")" vol-create-as shared "$vm.qcow2" 32M --format qcow2 >/dev/null
	done
	for ((r = 0; r < fo_rounds; r++)); do
		fo_round "$r"
	done
	for vm in "${fo_vms[@]}"; do
		for r in lab-a lab-b "$fo_victim"; do
			virsh -q -c "$(fo_uri "$r")" destroy "$vm" >/dev/null 2>&1 || true
			virsh -q -c "$(fo_uri "$r")" undefine "$vm" >/dev/null 2>&1 || true
		done
		virsh -q -c "$(fo_uri lab-a)" vol-delete "$vm.qcow2" --pool shared >/dev/null 2>&1 || true
	done
}

failover_table() {
	local med fmed
	med=$(printf '%s\n' "${fo_totals[@]}" | median)
	fmed=$(printf '%s\n' "${fo_fences[@]}" | median)
	cat <<-EOF
	Power cut of a host running two shared-storage guests (32 MiB each, TCG) under \`drover run
	--dir --detect-after $fo_detect\`, three lab hosts, fenced through the host's BMC with
	fence_ipmilan; $fo_rounds rounds.

	| round | power cut → BMC power-off | power cut → both guests running elsewhere |
	|---:|---:|---:|
	EOF
	printf '%s\n' "${fo_rows[@]}"
	cat <<-EOF

	Failover time, median of $fo_rounds: **$med s** against the detection time configured,
	${fo_detect} s (**$(div "$med" "$fo_detect" 2)×**); the fence reached the BMC after a median
	of $fmed s.
	EOF
}
