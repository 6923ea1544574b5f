# lab.sh: the benchmarks on the lab's real libvirt hosts, sourced by tests/bench/run when
# BENCH_ONLY names "lab" (make bench never starts the lab on its own: others may use it).
#   overhead  the same running guest moved live by `drover apply` (a re-pin) and by a raw
#             `virsh migrate --live --p2p`, alternating: wall time and downtime of each
#   reaction  `drover run --dir`: from a manifest written to the migration job running on
#             the source (polled with virsh domjobinfo every 20 ms)
# Knobs: BENCH_LAB_ROUNDS=3.

lab_rounds=${BENCH_LAB_ROUNDS:-3}
lab_vm=bench-1

lab_uri() { echo "qemu+tcp://10.77.0.1$(($1 + 1))/system"; }
lab_name() { printf 'lab-%b' "\\x$(printf '%x' $((97 + $1)))"; }

# lab_write_vm PIN: the guest's manifest, pinned to PIN.
lab_write_vm() {
	cat >"$tmp/lab/m/vm.yaml" <<-EOF
	apiVersion: drover.io/v1alpha1
	kind: VirtualMachine
	metadata: {name: $lab_vm}
	spec:
	  host: $1
	  domain:
	    type: $(cat /var/tmp/drover-lab/accel)
	    memory: 64Mi
	    kernel: /var/tmp/drover-lab/shared/guest.elf
	    cmdline: "dirty_mib=8 rate_mibps=4"
	    disks: [{path: "/var/tmp/drover-lab/shared/$lab_vm.qcow2"}]
	EOF
}

lab_setup() {
	bash "$root/hack/lab" up 2 >/dev/null
	mkdir -p "$tmp/lab/m"
	cat >"$tmp/lab/m/hosts.yaml" <<-EOF
	apiVersion: drover.io/v1alpha1
	kind: Host
	metadata: {name: lab-a}
	spec: {uri: "$(lab_uri 0)", migrationAddress: 10.77.0.11, reservedMemory: "0"}
	---
	apiVersion: drover.io/v1alpha1
	kind: Host
	metadata: {name: lab-b}
	spec: {uri: "$(lab_uri 1)", migrationAddress: 10.77.0.12, reservedMemory: "0"}
	EOF
	lab_cleanup
	virsh -q -c "$(lab_uri 0)" vol-create-as shared "$lab_vm.qcow2" 32M --format qcow2 >/dev/null
	lab_write_vm lab-a
	"$drover" apply -f "$tmp/lab/m" --state-dir "$tmp/lab/s" --stop-timeout 2 >/dev/null
}

lab_cleanup() {
	local i
	for i in 0 1; do
		virsh -q -c "$(lab_uri $i)" destroy "$lab_vm" >/dev/null 2>&1 || true
		virsh -q -c "$(lab_uri $i)" undefine "$lab_vm" >/dev/null 2>&1 || true
	done
	virsh -q -c "$(lab_uri 0)" vol-delete "$lab_vm.qcow2" --pool shared >/dev/null 2>&1 || true
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f\n", b - a}'; }

# The downtime (ms) of the last completed migration job of the guest on host $1.
completed_downtime() {
	virsh -c "$(lab_uri "$1")" domjobinfo "$lab_vm" --completed 2>/dev/null |
		awk -F: '/Total downtime/ {gsub(/[^0-9]/, "", $2); print $2; exit}'
}

# One drover move a → b (the pin says lab-b; the guest is on lab-a): prints "SECONDS MS".
drover_move() {
	local t0 t1 rec
	t0=$(now)
	"$drover" apply -f "$tmp/lab/m" --state-dir "$tmp/lab/s" --stop-timeout 2 >/dev/null
	t1=$(now)
	rec=$(ls -t "$tmp/lab/s/migrations/default/" | head -1)
	echo "$(elapsed "$t0" "$t1") $("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"].get("downtimeMs", ""))' "$tmp/lab/s/migrations/default/$rec")"
}

# One raw move b → a as operators script it: prints "SECONDS MS".
virsh_move() {
	local t0 t1
	t0=$(now)
	virsh -q -c "$(lab_uri 1)" migrate --live --p2p --persistent --undefinesource --unsafe \
		"$lab_vm" "$(lab_uri 0)" tcp://10.77.0.11 >/dev/null
	t1=$(now)
	echo "$(elapsed "$t0" "$t1") $(completed_downtime 0)"   # the source undefined it
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

bench_overhead() {
	local i d v
	: >"$tmp/lab/drover.txt"
	: >"$tmp/lab/virsh.txt"
	lab_write_vm lab-b
	for ((i = 0; i < lab_rounds; i++)); do
		d=$(drover_move)
		v=$(virsh_move)
		log "overhead round $i: drover $d, virsh $v"
		echo "$d" >>"$tmp/lab/drover.txt"
		echo "$v" >>"$tmp/lab/virsh.txt"
	done
}

# Seconds from the pin written to a migration job on host $1, under drover run --dir.
reaction_once() {
	local from=$1 to=$2 t0 i job
	t0=$(now)
	lab_write_vm "$(lab_name "$to")"
	for ((i = 0; i < 1500; i++)); do
		# Not `| grep -q`: under pipefail grep's early exit fails the pipeline (SIGPIPE).
		job=$(virsh -c "$(lab_uri "$from")" domjobinfo "$lab_vm" 2>/dev/null || true)
		if [[ $job == *Unbounded* ]]; then
			elapsed "$t0" "$(now)"
			return 0
		fi
		sleep 0.02
	done
	echo nan
}

# Waits (at most 120 s) until the guest runs on host $1 only.
wait_on() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(virsh -q -c "$(lab_uri "$1")" domstate "$lab_vm" 2>/dev/null)" = running ] &&
			! virsh -q -c "$(lab_uri $((1 - $1)))" domstate "$lab_vm" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

bench_reaction() {
	local i from r pid
	: >"$tmp/lab/reaction.txt"
	lab_write_vm lab-a          # where the last raw move left it: nothing to do at start
	"$drover" run --dir "$tmp/lab/m" --state-dir "$tmp/lab/s" --metrics-addr off \
		>"$tmp/lab/run.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	for ((i = 0; i < lab_rounds; i++)); do
		from=0
		virsh -q -c "$(lab_uri 1)" domstate "$lab_vm" >/dev/null 2>&1 && from=1
		wait_on "$from" || die "reaction: $lab_vm not settled on $(lab_name "$from")"
		sleep 2
		r=$(reaction_once "$from" $((1 - from)))
		log "reaction round $i: $r s"
		echo "$r" >>"$tmp/lab/reaction.txt"
		wait_on $((1 - from)) || die "reaction: the move did not end"
	done
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
}

lab_table() {
	local dt vt dd vd
	dt=$(cut -d' ' -f1 "$tmp/lab/drover.txt" | median)
	vt=$(cut -d' ' -f1 "$tmp/lab/virsh.txt" | median)
	dd=$(cut -d' ' -f2 "$tmp/lab/drover.txt" | median)
	vd=$(cut -d' ' -f2 "$tmp/lab/virsh.txt" | median)
	echo "Live move of one running guest (64 MiB, 8 MiB rewritten at 4 MiB/s, shared storage)"
	echo "between two lab hosts, $lab_rounds rounds each, alternating; medians."
	echo
	echo "| | wall time | downtime |"
	echo "|---|---|---|"
	printf '| `drover apply` (observe, plan, pre-checks, move, record) | %.2f s | %s ms |\n' "$dt" "$dd"
	printf '| `virsh migrate --live --p2p` (baseline) | %.2f s | %s ms |\n' "$vt" "$vd"
	printf '| ratio | **%.2f×** | |\n' "$(awk -v a="$dt" -v b="$vt" 'BEGIN {print a / b}')"
	echo
	echo "Reaction of \`drover run --dir\`: from the manifest written to the migration job"
	printf 'running on the source: median **%.2f s** of %s (%s), of which 0.1 s is the\n' \
		"$(median <"$tmp/lab/reaction.txt")" "$lab_rounds" "$(paste -sd' ' "$tmp/lab/reaction.txt")"
	echo "debounce that lets an editor finish writing, and the rest a pass (read the manifests"
	echo "and the state dir, observe both hosts, plan, pre-check)."
}

bench_lab() {
	lab_setup
	bench_overhead
	bench_reaction
	lab_table >"$out/lab.md"
	lab_cleanup
}
