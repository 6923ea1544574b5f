# lab.sh: the benchmarks on the lab's real libvirt hosts, sourced by tests/bench/run when
# BENCH_ONLY names "lab" (make bench never starts the lab on its own: others may use it).
#   overhead  the same running guest moved live by `drover apply` (a re-pin) and by a raw
#             `virsh migrate --live --p2p`, alternating: wall time and downtime of each
#   reaction  `drover run --dir`: from a manifest written to the migration job running on
#             the source (polled with virsh domjobinfo every 20 ms)
#   evacuate  a host running 8 guests drained by `drover apply` (drain: true) against the
#             same guests moved back by a sequential `virsh migrate --live` loop
#   hot       a guest rewriting memory faster than the bandwidth cap: plain
#             `virsh migrate --live --bandwidth` given 120 s against drover's escalation
#   startlong `drover run --dir`: from a new VM's manifest to it running while a ~50 s move
#             is under way, against the same with no move running
# and, as BENCH_ONLY=predict (a section of its own), the prediction before capped live moves
# against the jobs' own durations.
# Knobs: BENCH_LAB_ROUNDS=3, BENCH_LAB_GUESTS=8,
#        BENCH_LAB_PARTS="overhead reaction evacuate hot startlong".

lab_rounds=${BENCH_LAB_ROUNDS:-3}
lab_guests=${BENCH_LAB_GUESTS:-8}
lab_parts=${BENCH_LAB_PARTS:-overhead reaction evacuate hot startlong}
lab_vm=bench-1
hot_vm=bench-hot
hot_bandwidth=20
hot_budget_s=120
long_vm=bench-long
new_vm=bench-new
lab_shared=/var/tmp/drover-lab/shared

lab_uri() { echo "qemu+tcp://10.77.0.1$(($1 + 1))/system"; }
lab_name() { printf 'lab-%b' "\\x$(printf '%x' $((97 + $1)))"; }

# What the guest rewrites, and its spec.migrationPolicy (none): the predict benchmark
# changes both for its own guest.
lab_cmdline="dirty_mib=8 rate_mibps=4"
lab_policy="{}"

# lab_write_vm PIN: the guest's manifest, pinned to PIN.
lab_write_vm() {
	cat >"$tmp/lab/m/vm.yaml" <<-EOF
	apiVersion: drover.io/v1alpha1
	kind: VirtualMachine
	metadata: {name: $lab_vm}
	spec:
	  host: $1
	  migrationPolicy: $lab_policy
	  domain:
	    type: $(cat /var/tmp/drover-lab/accel)
	    memory: 64Mi
	    kernel: /var/tmp/drover-lab/shared/guest.elf
	    cmdline: "$lab_cmdline"
	    disks: [{path: "/var/tmp/drover-lab/shared/$lab_vm.qcow2"}]
	EOF
}

# lab_write_hosts DIR DRAIN_A: both hosts into DIR/hosts.yaml, lab-a drained when DRAIN_A is true.
lab_write_hosts() {
	cat >"$1/hosts.yaml" <<-EOF
	apiVersion: drover.io/v1alpha1
	kind: Host
	metadata: {name: lab-a}
	spec: {uri: "$(lab_uri 0)", migrationAddress: 10.77.0.11, reservedMemory: "0", drain: $2}
	---
	apiVersion: drover.io/v1alpha1
	kind: Host
	metadata: {name: lab-b}
	spec: {uri: "$(lab_uri 1)", migrationAddress: 10.77.0.12, reservedMemory: "0"}
	EOF
}

lab_setup() {
	bash "$root/hack/lab" up 2 >/dev/null
	mkdir -p "$tmp/lab/m"
	lab_write_hosts "$tmp/lab/m" false
	lab_cleanup
}

# The overhead and reaction guest, started on lab-a unless it runs already.
lab_guest_up() {
	local i
	for i in 0 1; do
		[ "$(virsh -q -c "$(lab_uri $i)" domstate "$lab_vm" 2>/dev/null)" = running ] && return 0
	done
	virsh -q -c "$(lab_uri 0)" vol-create-as shared "$lab_vm.qcow2" 32M --format qcow2 >/dev/null
	lab_write_vm lab-a
	"$drover" apply -f "$tmp/lab/m" --state-dir "$tmp/lab/s" --stop-timeout 2 >/dev/null
}

# lab_remove VM...: the guests gone from both hosts.
lab_remove() {
	local i vm
	for vm in "$@"; do
		for i in 0 1; do
			virsh -q -c "$(lab_uri $i)" destroy "$vm" >/dev/null 2>&1 || true
			virsh -q -c "$(lab_uri $i)" undefine "$vm" >/dev/null 2>&1 || true
		done
	done
}

lab_cleanup() {
	lab_remove "$lab_vm" "$hot_vm" "$long_vm" $(new_names) $(ev_names)
	virsh -q -c "$(lab_uri 0)" vol-delete "$new_vm.qcow2" --pool shared >/dev/null 2>&1 || true
	virsh -q -c "$(lab_uri 0)" vol-delete "$lab_vm.qcow2" --pool shared >/dev/null 2>&1 || true
	rm -f "$lab_shared/$hot_vm.serial"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f\n", b - a}'; }

# The downtime (ms) of the last completed migration job of the guest on host $1.
completed_downtime() {
	virsh -c "$(lab_uri "$1")" domjobinfo "$lab_vm" --completed 2>/dev/null |
		awk -F: '/Total downtime/ {gsub(/[^0-9]/, "", $2); print $2; exit}'
}

# The duration (s) of the last completed migration job of guest $2 on host $1: what
# drover's prediction (Migration.status.prediction.durationMilliseconds) is about.
completed_elapsed() {
	virsh -c "$(lab_uri "$1")" domjobinfo "$2" --completed 2>/dev/null |
		awk -F: '/^Time elapsed:/ {gsub(/[^0-9]/, "", $2); printf "%.3f\n", $2 / 1000; exit}'
}

# The dirty rate (MiB/s) the prediction in Migration record $1 measured ("-" without one).
record_dirty() {
	"$py" -c 'import json,sys; p=json.load(open(sys.argv[1]))["status"].get("prediction") or {}; r=p.get("dirtyRateBytesPerSecond"); print("-" if r is None else "%.2f" % (r / 1048576))' "$1"
}

# "PREDICTED_S CONVERGES" from the Migration record $1 ("- -" without a prediction); the
# seconds to the millisecond (durationSeconds is rounded up to whole ones).
record_prediction() {
	"$py" -c 'import json,sys; p=json.load(open(sys.argv[1]))["status"].get("prediction") or {}; ms=p.get("durationMilliseconds"); print("-" if ms is None else "%.2f" % (ms / 1000), str(p.get("converges", "-")).lower())' "$1"
}

# "FIXED_S SENT_MIB" from the Migration record $1's statistics (what the move took: the job
# less the stream's time, and the bytes sent), "- -" without them.
record_statistics() {
	"$py" -c 'import json,sys; s=json.load(open(sys.argv[1]))["status"].get("statistics") or {}; print("- -" if "elapsedMilliseconds" not in s else "%.2f %.1f" % ((s["elapsedMilliseconds"] - s.get("transferMilliseconds", 0)) / 1000, s.get("transferredBytes", 0) / 1048576))' "$1"
}

# One drover move to the host the pin names (lab-b unless $1 says otherwise): prints
# "SECONDS MS PREDICTED_S CONVERGES JOB_S DIRTY_MIBPS FIXED_S SENT_MIB".
drover_move() {
	local t0 t1 rec to=${1:-1}
	t0=$(now)
	"$drover" apply -f "$tmp/lab/m" --state-dir "$tmp/lab/s" --stop-timeout 2 >/dev/null
	t1=$(now)
	rec=$tmp/lab/s/migrations/default/$(ls -t "$tmp/lab/s/migrations/default/" | head -1)
	echo "$(elapsed "$t0" "$t1") $("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"].get("downtimeMs", ""))' "$rec")" \
		"$(record_prediction "$rec")" "$(completed_elapsed "$to" "$lab_vm")" "$(record_dirty "$rec")" \
		"$(record_statistics "$rec")"
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

# Waits (at most 120 s) until guest $2 (default: the overhead guest) runs on host $1 only.
wait_on() {
	local i vm=${2:-$lab_vm}
	for ((i = 0; i < 600; i++)); do
		[ "$(virsh -q -c "$(lab_uri "$1")" domstate "$vm" 2>/dev/null)" = running ] &&
			! virsh -q -c "$(lab_uri $((1 - $1)))" domstate "$vm" >/dev/null 2>&1 && return 0
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

# The table rows "| N | PREDICTED s | CONVERGES | JOB s | ERROR | FIXED s |" from
# drover_move's lines in $1; with $2 = wide, also the dirty rate the prediction measured and
# the MiB the move sent.
prediction_rows() {
	awk -v wide="${2:-}" '{err = ($3 != "-" && $5 > 0) ? sprintf("%+.0f %%", 100 * ($3 - $5) / $5) : "—";
	      printf "| %d | %s s | %s | %.2f s | %s | %s s |", NR, $3, $4, $5, err, $7
	      if (wide) printf " %s MiB/s | %s MiB |", $6, $8
	      printf "\n"}' "$1"
}

overhead_table() {
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
	echo "drover's prediction before each of these moves (dirty rate measured for 1 s, model at"
	echo "the allowed bandwidth, 1 Gbit/s when uncapped, and the fixed part of a move: the median"
	echo "of the last moves to the same host, 1 s before the first) against the migration job's"
	echo "own duration (libvirt's completed job statistics); the move's own fixed part is that"
	echo "duration less the time its stream sent data (Migration.status.statistics):"
	echo
	echo "| round | predicted | converges | actual job | error | its fixed part |"
	echo "|---|---|---|---|---|---|"
	prediction_rows "$tmp/lab/drover.txt"
}

reaction_table() {
	echo "Reaction of \`drover run --dir\`: from the manifest written to the migration job"
	printf 'running on the source: median **%.2f s** of %s (%s), of which 0.1 s is the\n' \
		"$(median <"$tmp/lab/reaction.txt")" "$lab_rounds" "$(paste -sd' ' "$tmp/lab/reaction.txt")"
	echo "debounce that lets an editor finish writing, and the rest a pass (read the manifests"
	echo "and the state dir, observe both hosts, plan, pre-check)."
}

# ---- predict ----
# The moves above take under half a second: these are capped so that each takes several,
# with a guest whose memory keeps changing.
pred_cmdline="dirty_mib=24 rate_mibps=1"
pred_bandwidth=4

bench_predict() {
	local i to d
	: >"$tmp/lab/predict.txt"
	lab_remove "$lab_vm"
	lab_cmdline=$pred_cmdline
	lab_policy="{bandwidthMiBps: $pred_bandwidth}"
	lab_guest_up
	sleep 30   # the guest rewrites its region once before the first move
	for ((i = 0; i < 2 * lab_rounds; i++)); do
		to=$(((i + 1) % 2))
		lab_write_vm "$(lab_name "$to")"
		d=$(drover_move "$to")
		log "predict move $i to $(lab_name "$to"): $d"
		echo "$d" >>"$tmp/lab/predict.txt"
	done
	lab_remove "$lab_vm"
	lab_cmdline="dirty_mib=8 rate_mibps=4"
	lab_policy="{}"
}

predict_table() {
	echo "The guest (64 MiB, $(echo "$pred_cmdline" | sed 's/dirty_mib=\([0-9]*\) rate_mibps=\([0-9]*\)/\1 MiB rewritten at \2 MiB\/s/'),"
	echo "shared storage) moved live by \`drover apply\` between two lab hosts with"
	echo "\`bandwidthMiBps: $pred_bandwidth\`, $((2 * lab_rounds)) moves, alternating: drover's prediction"
	echo "(dirty rate measured for 1 s, the touched memory, the model at the capped rate, the fixed"
	echo "part of the last moves to the same host) against the migration job's own duration"
	echo "(libvirt's completed job statistics)."
	echo
	echo "| move | predicted | converges | actual job | error | its fixed part | dirty rate measured | sent |"
	echo "|---|---|---|---|---|---|---|---|"
	prediction_rows "$tmp/lab/predict.txt" wide
	echo
	awk '$3 != "-" && $5 > 0 {e = 100 * ($3 - $5) / $5; if (e < 0) e = -e; n++;
	      if (e <= 30) ok++; if (e > worst) worst = e}
	     END {printf "%d of %d within ±30 %% (worst %.0f %%); the goal is every move within ±30 %%.\n",
	          ok, n, worst}' "$tmp/lab/predict.txt"
}

bench_lab_predict() {
	lab_setup
	bench_predict
	predict_table >"$out/predict.md"
	lab_cleanup
}

# ---- evacuate ----

ev_names() {
	local i
	for ((i = 1; i <= lab_guests; i++)); do
		echo "bench-e$i"
	done
}

# ev_write_vms PIN: the evacuation guests (32 MiB, 2 MiB rewritten at 1 MiB/s), pinned to
# PIN, or placed by drover when PIN is empty.
ev_write_vms() {
	local vm
	for vm in $(ev_names); do
		cat >"$tmp/lab/e/$vm.yaml" <<-EOF
		apiVersion: drover.io/v1alpha1
		kind: VirtualMachine
		metadata: {name: $vm}
		spec:
		  ${1:+host: $1}
		  evictionStrategy: LiveMigrate
		  domain:
		    type: $(cat /var/tmp/drover-lab/accel)
		    memory: 32Mi
		    kernel: $lab_shared/guest.elf
		    cmdline: "dirty_mib=2 rate_mibps=1"
		EOF
	done
}

# Every evacuation guest runs on host $1 only (waits at most 120 s per guest).
ev_all_on() {
	local vm
	for vm in $(ev_names); do
		wait_on "$1" "$vm" || return 1
	done
}

ev_apply() {
	"$drover" apply -f "$tmp/lab/e" --state-dir "$tmp/lab/se" --stop-timeout 2 >>"$tmp/lab/ev.log" 2>&1
}

# Each round: drover drains lab-a (its default: 2 moves at a time per source host), then a
# sequential virsh loop brings the guests back; wall time of each into ev-*.txt.
bench_evacuate() {
	local i t0 t1 vm
	: >"$tmp/lab/ev-drover.txt"
	: >"$tmp/lab/ev-virsh.txt"
	mkdir -p "$tmp/lab/e"
	lab_write_hosts "$tmp/lab/e" false
	ev_write_vms lab-a
	ev_apply || die "evacuate: the guests did not start (see $tmp/lab/ev.log)"
	ev_write_vms ""               # unpinned: drover may move them
	lab_write_hosts "$tmp/lab/e" true
	for ((i = 0; i < lab_rounds; i++)); do
		ev_all_on 0 || die "evacuate: the guests are not all on lab-a"
		t0=$(now)
		ev_apply || die "evacuate: drover apply failed (see $tmp/lab/ev.log)"
		t1=$(now)
		ev_all_on 1 || die "evacuate: drover left guests on lab-a"
		elapsed "$t0" "$t1" >>"$tmp/lab/ev-drover.txt"
		t0=$(now)
		for vm in $(ev_names); do
			virsh -q -c "$(lab_uri 1)" migrate --live --p2p --persistent --undefinesource \
				--unsafe "$vm" "$(lab_uri 0)" tcp://10.77.0.11 >/dev/null ||
				die "evacuate: virsh migrate $vm failed"
		done
		t1=$(now)
		elapsed "$t0" "$t1" >>"$tmp/lab/ev-virsh.txt"
		log "evacuate round $i: drover $(tail -1 "$tmp/lab/ev-drover.txt") s, virsh loop $(tail -1 "$tmp/lab/ev-virsh.txt") s"
	done
	lab_remove $(ev_names)
}

evacuate_table() {
	local d v
	d=$(median <"$tmp/lab/ev-drover.txt")
	v=$(median <"$tmp/lab/ev-virsh.txt")
	echo "Evacuation of a host running $lab_guests guests (32 MiB each, 2 MiB rewritten at 1 MiB/s,"
	echo "shared storage) to the other lab host, $lab_rounds rounds each, alternating; medians."
	echo
	echo "| | wall time | per guest |"
	echo "|---|---|---|"
	printf '| `drover apply` with `drain: true` (2 moves at a time per host) | %.2f s | %.2f s |\n' \
		"$d" "$(awk -v a="$d" -v n="$lab_guests" 'BEGIN {print a / n}')"
	printf '| sequential `virsh migrate --live --p2p` loop (baseline) | %.2f s | %.2f s |\n' \
		"$v" "$(awk -v a="$v" -v n="$lab_guests" 'BEGIN {print a / n}')"
	printf '| ratio | **%.2f×** | |\n' "$(awk -v a="$d" -v b="$v" 'BEGIN {print a / b}')"
}

# ---- hot ----

# hot_write_vm PIN: 96 MiB, 48 MiB rewritten as fast as the guest can, moves capped at
# $hot_bandwidth MiB/s; drover may use auto-converge and raise the downtime.
hot_write_vm() {
	cat >"$tmp/lab/h/vm.yaml" <<-EOF
	apiVersion: drover.io/v1alpha1
	kind: VirtualMachine
	metadata: {name: $hot_vm}
	spec:
	  host: $1
	  migrationPolicy: {bandwidthMiBps: $hot_bandwidth, allowAutoConverge: true, progressTimeoutSeconds: 20}
	  domain:
	    type: $(cat /var/tmp/drover-lab/accel)
	    memory: 96Mi
	    kernel: $lab_shared/guest.elf
	    cmdline: "dirty_mib=48 rate_mibps=0"
	    serial: {path: $lab_shared/$hot_vm.serial}
	EOF
}

# The corrupt words the hot guest has found so far (its last heartbeat).
hot_corrupt() {
	grep -a '^hb ' "$lab_shared/$hot_vm.serial" | tail -1 | sed -n 's/.*corrupt=\([0-9]*\).*/\1/p'
}

# Waits (at most 60 s) for the hot guest's fifth heartbeat: its memory is written.
hot_wait_ready() {
	local i log
	for ((i = 0; i < 300; i++)); do
		log=$(grep -a -c '^hb ' "$lab_shared/$hot_vm.serial" 2>/dev/null || true)
		[ "${log:-0}" -ge 5 ] && return 0
		sleep 0.2
	done
	return 1
}

# Plain pre-copy at the same cap, given $hot_budget_s, then aborted as operators script it.
# Prints "FINISHED SECONDS DOWNTIME_MS".
hot_virsh() {
	local t0 t1 rc=0 i
	t0=$(now)
	timeout "$hot_budget_s" virsh -q -c "$(lab_uri 0)" migrate --live --p2p --persistent \
		--undefinesource --unsafe --bandwidth "$hot_bandwidth" "$hot_vm" "$(lab_uri 1)" \
		tcp://10.77.0.12 >/dev/null 2>&1 || rc=$?
	t1=$(now)
	if [ "$rc" = 0 ]; then
		echo "yes $(elapsed "$t0" "$t1") $(completed_downtime 1)"
		return 0
	fi
	# With --p2p the job lives in the source daemon: killing virsh does not end it.
	virsh -q -c "$(lab_uri 0)" domjobabort "$hot_vm" >/dev/null 2>&1 || true
	for ((i = 0; i < 100; i++)); do
		[[ $(virsh -c "$(lab_uri 0)" domjobinfo "$hot_vm" 2>/dev/null || true) == *None* ]] && break
		sleep 0.2
	done
	echo "no $(elapsed "$t0" "$t1") -"
}

# drover's move of the same guest to lab-b: prints "FINISHED SECONDS DOWNTIME_MS MODE
# PREDICTED_S CONVERGES JOB_S".
hot_drover() {
	local t0 t1 rc=0 rec
	hot_write_vm lab-b
	t0=$(now)
	"$drover" apply -f "$tmp/lab/h" --state-dir "$tmp/lab/sh" --stop-timeout 2 >>"$tmp/lab/hot.log" 2>&1 || rc=$?
	t1=$(now)
	rec=$(ls -t "$tmp/lab/sh/migrations/default/" | head -1)
	"$py" - "$tmp/lab/sh/migrations/default/$rec" "$rc" "$(elapsed "$t0" "$t1")" <<-'EOF'
	import json, sys
	st = json.load(open(sys.argv[1]))["status"]
	done = "yes" if sys.argv[2] == "0" and st.get("phase") == "Succeeded" else "no"
	p = st.get("prediction") or {}
	print(done, sys.argv[3], st.get("downtimeMs", "-"), st.get("mode", "-"),
	      "%.2f" % (p["durationMilliseconds"] / 1000) if "durationMilliseconds" in p else "-",
	      str(p.get("converges", "-")).lower(), end=" ")
	EOF
	echo "$(completed_elapsed 1 "$hot_vm")"
}

bench_hot() {
	local v d
	mkdir -p "$tmp/lab/h"
	lab_write_hosts "$tmp/lab/h" false
	rm -f "$lab_shared/$hot_vm.serial"
	hot_write_vm lab-a
	"$drover" apply -f "$tmp/lab/h" --state-dir "$tmp/lab/sh" --stop-timeout 2 >>"$tmp/lab/hot.log" 2>&1 ||
		die "hot: the guest did not start (see $tmp/lab/hot.log)"
	hot_wait_ready || die "hot: the guest wrote no heartbeats"
	v=$(hot_virsh)
	echo "$v $(hot_corrupt)" >"$tmp/lab/hot-virsh.txt"
	log "hot: virsh (finished, s, downtime ms, corrupt) $(cat "$tmp/lab/hot-virsh.txt")"
	wait_on 0 "$hot_vm" || die "hot: the guest is not back on lab-a after the abort"
	d=$(hot_drover)
	sleep 2                       # a few heartbeats on the target
	echo "$d $(hot_corrupt)" >"$tmp/lab/hot-drover.txt"
	log "hot: drover (finished, s, downtime ms, mode, predicted s, converges, job s, corrupt) $(cat "$tmp/lab/hot-drover.txt")"
	lab_remove "$hot_vm"
}

hot_table() {
	local vf vs vd vc df ds dd dm dc
	read -r vf vs vd vc <"$tmp/lab/hot-virsh.txt"
	local dp dv dj
	read -r df ds dd dm dp dv dj dc <"$tmp/lab/hot-drover.txt"
	[ "$vd" = - ] && vd="—" || vd="$vd ms"
	[ "$dd" = - ] && dd="—" || dd="$dd ms"
	echo "A guest rewriting 48 of its 96 MiB as fast as it can (faster than the cap), moved live"
	echo "with the bandwidth capped at $hot_bandwidth MiB/s, once each."
	echo
	echo "| | finished | total time | downtime | guest intact (corrupt words) |"
	echo "|---|---|---|---|---|"
	printf '| plain `virsh migrate --live --bandwidth %s` (given %s s, then aborted) | %s | %.1f s | %s | %s |\n' \
		"$hot_bandwidth" "$hot_budget_s" "$vf" "$vs" "$vd" "$vc"
	printf '| `drover apply` (predicted not to converge: auto-converge from the throttle it needs, then downtime raises) | %s (%s) | %.1f s | %s | %s |\n' \
		"$df" "$dm" "$ds" "$dd" "$dc"
	echo
	echo "drover's prediction for this move: $dp s, converges: $dv; the job took ${dj:-?} s."
}

# ---- startlong: a new VM under a long move ----

# long_write_vm PIN: a guest rewriting 48 MiB at 1 MiB/s, moved at 2 MiB/s: each pre-copy
# pass sends half of the one before, about 50 s a move.
long_write_vm() {
	cat >"$tmp/lab/l/long.yaml" <<-EOF
	apiVersion: drover.io/v1alpha1
	kind: VirtualMachine
	metadata: {name: $long_vm}
	spec:
	  host: $1
	  migrationPolicy: {bandwidthMiBps: 2, allowAutoConverge: false, progressTimeoutSeconds: 0,
	    completionTimeoutPerGiBSeconds: 0}
	  domain:
	    type: $(cat /var/tmp/drover-lab/accel)
	    memory: 96Mi
	    kernel: $lab_shared/guest.elf
	    cmdline: "dirty_mib=48 rate_mibps=1"
	EOF
}

# The names start_once gives the new VMs.
new_names() {
	local i
	for ((i = 0; i < lab_rounds; i++)); do echo "$new_vm-$i-idle $new_vm-$i-long"; done
}

# start_once NAME: seconds from the new VM NAME's manifest written to it running on lab-b
# (polled every 20 ms); then the VM is taken away again (manifest and domain). Each start
# has a name of its own: taken away while drover still checks that it runs, a start counts
# as failed, and drover backs off the next start of that name.
start_once() {
	local t0 i st r=nan vm=$1
	t0=$(now)
	cat >"$tmp/lab/l/new.yaml" <<-EOF
	apiVersion: drover.io/v1alpha1
	kind: VirtualMachine
	metadata: {name: $vm}
	spec:
	  host: lab-b
	  domain:
	    type: $(cat /var/tmp/drover-lab/accel)
	    memory: 32Mi
	    kernel: $lab_shared/guest.elf
	    cmdline: "dirty_mib=1 rate_mibps=1"
	    disks: [{path: "$lab_shared/$new_vm.qcow2"}]
	EOF
	for ((i = 0; i < 3000; i++)); do
		st=$(virsh -q -c "$(lab_uri 1)" domstate "$vm" 2>/dev/null || true)
		if [ "$st" = running ]; then
			r=$(elapsed "$t0" "$(now)")
			break
		fi
		sleep 0.02
	done
	rm -f "$tmp/lab/l/new.yaml"
	sleep 0.5
	lab_remove "$vm"
	echo "$r"
}

# True while host $1 runs a migration job of the long guest.
long_moving() {
	[[ $(virsh -c "$(lab_uri "$1")" domjobinfo "$long_vm" 2>/dev/null || true) == *Unbounded* ]]
}

bench_startlong() {
	local i pid from r moving
	mkdir -p "$tmp/lab/l"
	lab_write_hosts "$tmp/lab/l" false
	virsh -q -c "$(lab_uri 0)" vol-create-as shared "$new_vm.qcow2" 32M --format qcow2 >/dev/null 2>&1 || true
	: >"$tmp/lab/start-idle.txt"
	: >"$tmp/lab/start-long.txt"
	long_write_vm lab-a
	"$drover" run --dir "$tmp/lab/l" --state-dir "$tmp/lab/sl" --metrics-addr off \
		>"$tmp/lab/startlong.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_on 0 "$long_vm" || die "startlong: $long_vm did not start"
	sleep 50   # until it has written its whole region: zero pages would make the move short
	for ((i = 0; i < lab_rounds; i++)); do
		r=$(start_once "$new_vm-$i-idle")
		log "startlong round $i: no move running: $r s"
		echo "$r" >>"$tmp/lab/start-idle.txt"
		from=0
		virsh -q -c "$(lab_uri 1)" domstate "$long_vm" >/dev/null 2>&1 && from=1
		long_write_vm "$(lab_name $((1 - from)))"
		for ((moving = 0; moving < 500; moving++)); do long_moving "$from" && break; sleep 0.05; done
		r=$(start_once "$new_vm-$i-long")
		long_moving "$from" || r="$r(move-ended)"
		log "startlong round $i: under a long move: $r s"
		echo "$r" >>"$tmp/lab/start-long.txt"
		wait_on $((1 - from)) "$long_vm" || die "startlong: the long move did not end"
	done
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	cp "$tmp/lab/startlong.log" "$out/startlong.log"   # drover's own times, kept for reading
	lab_remove "$long_vm"
}

startlong_table() {
	local idle long
	idle=$(median <"$tmp/lab/start-idle.txt")
	long=$(grep -v move-ended "$tmp/lab/start-long.txt" | median)
	echo "\`drover run --dir\`: from a new VM's manifest to the VM running (virsh, polled every 20 ms),"
	echo "with no move running and while a ~50 s live move (48 MiB rewritten at 1 MiB/s, moved at"
	echo "2 MiB/s) is under way;"
	echo "$lab_rounds rounds each, medians (a round whose move ended first would not count:"
	echo "$(grep -c move-ended "$tmp/lab/start-long.txt") did)."
	echo
	echo "| | new VM running after |"
	echo "|---|---|"
	printf '| no move running (baseline) | %.2f s |\n' "$idle"
	printf '| under a long move | %.2f s |\n' "$long"
	printf '| ratio | **%.2f×** |\n' "$(awk -v a="$long" -v b="$idle" 'BEGIN {print a / b}')"
}

# "| PART | MOVES | WITHIN | WORST | ERRORS |": drover's prediction of every live move
# recorded in state dir $2 (status.prediction) against the job's duration libvirt measured
# (status.statistics.elapsedMilliseconds, what `virsh domjobinfo --completed` says), in the
# order the moves started; a move that had others beside it (prediction.concurrentMoves)
# is marked with how many.
prediction_summary_row() {
	"$py" - "$1" "$2" <<-'EOF'
	import glob, json, sys
	moves = []
	for f in glob.glob(sys.argv[2] + "/migrations/*/*.json"):
	    st = json.load(open(f)).get("status") or {}
	    p, s = st.get("prediction") or {}, st.get("statistics") or {}
	    if "durationMilliseconds" in p and s.get("elapsedMilliseconds"):
	        e = s["elapsedMilliseconds"]
	        moves.append((st.get("startTime", ""), f, 100.0 * (p["durationMilliseconds"] - e) / e,
	                      p.get("concurrentMoves", 0)))
	moves.sort()
	errs = [m[2] for m in moves]
	if errs:
	    ok = sum(1 for e in errs if abs(e) <= 30)
	    each = " ".join("%+.0f%s" % (m[2], "" if not m[3] else "(%d)" % m[3]) for m in moves)
	    print("| %s | %d | %d | %+.0f %% | %s |" % (sys.argv[1], len(errs), ok,
	          max(errs, key=abs), each))
	else:
	    print("| %s | 0 | — | — | — |" % sys.argv[1])
	EOF
}

# The Migration records of every part's moves, kept in $out/lab-records/STATE_DIR/ for a
# look at what the tables sum up (each move's prediction and statistics).
keep_records() {
	local dir
	rm -rf "$out/lab-records"
	for dir in s se sh sl; do
		[ -d "$tmp/lab/$dir/migrations" ] || continue
		mkdir -p "$out/lab-records/$dir"
		cp -r "$tmp/lab/$dir/migrations/." "$out/lab-records/$dir/"
	done
}

# Every move the parts above recorded, by state dir.
predictions_table() {
	local dir
	echo "drover's prediction of every live move above, each against its job's duration"
	echo "(Migration.status.prediction against status.statistics, both in the move's record;"
	echo "the goal is every move within ±30 %; \"(1)\": one other move shared its hosts):"
	echo
	echo "| part | moves | within ±30 % | worst | each move's error (%) |"
	echo "|---|---:|---:|---:|---|"
	for dir in "s:overhead and reaction" "se:evacuation" "sh:hot guest" "sl:start under a long move"; do
		[ -d "$tmp/lab/${dir%%:*}" ] && prediction_summary_row "${dir#*:}" "$tmp/lab/${dir%%:*}"
	done
}

bench_lab() {
	local part
	lab_setup
	: >"$out/lab.md"
	for part in $lab_parts; do
		case $part in
		overhead | reaction) lab_guest_up ;;
		*) lab_remove "$lab_vm" ;;   # an idle TCG guest still takes a CPU
		esac
		"bench_$part"
		"${part}_table" >>"$out/lab.md"
		echo >>"$out/lab.md"
	done
	predictions_table >>"$out/lab.md"
	keep_records
	lab_cleanup
}
