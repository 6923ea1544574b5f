# rpc.sh: drover plan observing hosts over libvirt's real RPC, sourced by tests/bench/run when
# BENCH_ONLY names "rpc". The hosts are libvirt's test driver served by the lab's libvirtd
# (lab-a, 10.77.0.11) over TCP: Host.spec.uri test+tcp://10.77.0.11/FILE, one node file per
# Host (one daemon serves them all). It needs the lab: run it under the lab lock,
#   flock /var/tmp/drover-lab.flock env BENCH_ONLY=rpc make bench
# and it takes the lab down when it is done.
# Figures: drover plan's wall time against rpc_floor's (list + one XML per domain, hosts in
# parallel) over the same daemon and files in the same run; both have the daemon's opens
# (parsing its node files) done ahead and timed apart. Knobs: BENCH_RPC_SCALES="10000:10
# 100000:100" (VMs:hosts), BENCH_RPC_REPEAT=3 (runs per scale, the median; 1 at 100k VMs),
# BENCH_RPC_IDLE_PASSES=3 (idle passes of drover run measured per scale).

rpc_scales=${BENCH_RPC_SCALES:-10000:10 100000:100}
rpc_repeat=${BENCH_RPC_REPEAT:-3}
rpc_addr=10.77.0.11
rpc_dir=/var/tmp/drover-bench-rpc      # /var/tmp: the same in the lab hosts' mount namespaces
rpc_rows=()
rpc_idle_rows=()
rpc_idle_passes=${BENCH_RPC_IDLE_PASSES:-3}

# rpc_gen VMS HOSTS DIR [PERCENT]: the cluster, PERCENT % of it (default 5) needing work,
# its Hosts pointing at the lab daemon, and DIR/uris.
rpc_gen() {
	"$py" "$here/gen.py" --vms "$1" --hosts "$2" --action-percent "${4:-5}" "$3" >"$3.roles"
	sed -i "s|test:///|test+tcp://$rpc_addr/|" "$3/manifests/hosts.yaml"
	local f
	for f in "$3"/nodes/*.xml; do
		echo "test+tcp://$rpc_addr$f"
	done >"$3/uris"
}

# One scale: @1 VMs on @2 hosts. Appends a row to rpc_rows.
bench_rpc_scale() {
	local n=$1 nh=$2 dir=$rpc_dir/c-$1 runs=$rpc_repeat r rc t rss u k
	[ "$n" -ge 100000 ] && runs=1
	log "rpc: generating $n VMs on $nh hosts served by $rpc_addr"
	rpc_gen "$n" "$nh" "$dir"
	local floors=() fopens=() walls=() opens=() owns=() cpus=() rss_max=0 summary="" rep=$tmp/rpc.report
	local state=$tmp/rpc-state
	mkdir -p "$state"
	for ((r = 0; r < runs; r++)); do
		local line
		line=$("$out/rpc_floor" "$dir/uris") || die "rpc_floor failed: $line"
		floors+=("$(sed -n 's/.*floor_s=\([0-9.]*\).*/\1/p' <<<"$line")")
		fopens+=("$(sed -n 's/.*opens_s=\([0-9.]*\).*/\1/p' <<<"$line")")
		rc=0
		rm -f "$rep"
		/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" env "DROVER_BENCH_PREOPEN=$dir/uris" \
			"DROVER_BENCH_REPORT=$rep" "LD_PRELOAD=$shim" \
			"$drover" plan -f "$dir/manifests" --state-dir "$state" \
			>"$tmp/plan.out" 2>"$tmp/plan.err" || rc=$?
		[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || { cat "$tmp/plan.err" >&2; die "drover plan: exit $rc"; }
		[ "$(report_field "$rep" failed)" = 0 ] || die "the shim could not open every host"
		if grep -q '^warning: host' "$tmp/plan.err"; then
			head -n 3 "$tmp/plan.err" >&2
			die "drover plan saw unreachable hosts: the figures would mean nothing"
		fi
		read -r t rss u k < <(grep -E '^[0-9.]+ [0-9]+ [0-9.]+ [0-9.]+$' "$tmp/time" | tail -n1)
		local open open_cpu
		open=$(report_field "$rep" preopen_s)
		open_cpu=$(report_field "$rep" cpu_s)
		walls+=("$t")
		opens+=("$open")
		owns+=("$(awk -v t="$t" -v o="$open" 'BEGIN {printf "%.2f", t - o}')")
		cpus+=("$(awk -v u="$u" -v k="$k" -v o="$open_cpu" 'BEGIN {printf "%.2f", u + k - o}')")
		[ "$rss" -gt "$rss_max" ] && rss_max=$rss
		summary=$(tail -n1 "$tmp/plan.out")
	done
	rm -rf "$state" "$dir" "$dir.roles"
	local floor fopen own cpu open
	floor=$(printf '%s\n' "${floors[@]}" | median)
	fopen=$(printf '%s\n' "${fopens[@]}" | median)
	own=$(printf '%s\n' "${owns[@]}" | median)
	open=$(printf '%s\n' "${opens[@]}" | median)
	cpu=$(printf '%s\n' "${cpus[@]}" | median)
	summary=${summary#Plan: }
	rpc_rows+=("| $n | $nh | $runs | $open s / $fopen s | **$own s** / $cpu s | **$floor s** | **$(div "$own" "$floor" 2)×** | $(kib_to_mib "$rss_max") MiB | ${summary%.} |")
	log "rpc: $n VMs: drover plan own ${own}s (CPU ${cpu}s, opens ${open}s), floor ${floor}s (opens ${fopen}s), peak RSS ${rss_max}KiB"
}

# "quiet" when the @2-th pass logged in @1 only observed (nothing changed since the last
# full pass), else "full".
pass_kind() {
	if grep 'reconciled' "$1" | sed -n "$2p" | grep -q 'quiet=true'; then
		echo quiet
	else
		echo full
	fi
}

# One scale's idle passes: `drover run` over @1 settled VMs on @2 hosts over RPC, the CPU of
# each of its next rpc_idle_passes passes once it converged (from /proc between two
# "reconciled" lines: a resync 30 s after the last pass ended, served by the inventory cache
# and libvirt's events), and its RSS at the end. Appends a row to rpc_idle_rows.
bench_rpc_idle() {
	local n=$1 nh=$2 dir=$rpc_dir/idle-$1 state=$tmp/rpc-idle-state runlog=$tmp/rpc-run.log
	local pid start converge_s seen t0 t1 hz cpus=() k rss
	log "rpc: idle: generating $n settled VMs on $nh hosts served by $rpc_addr"
	rpc_gen "$n" "$nh" "$dir" 0
	mkdir -p "$state"
	start=$(date +%s.%N)
	env "DROVER_BENCH_PREOPEN=$dir/uris" "DROVER_BENCH_REPORT=$tmp/rpc-idle.report" \
		"LD_PRELOAD=$shim" "$drover" run --dir "$dir/manifests" --state-dir "$state" \
		--metrics-addr off >"$runlog" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_line "$runlog" 'reconciled.*converged=true' "$converge_timeout_s" "$pid" ||
		{ tail -n 20 "$runlog" >&2; die "rpc: drover run did not converge"; }
	converge_s=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')
	hz=$(getconf CLK_TCK)
	seen=$(grep -c 'reconciled' "$runlog")
	t0=$(proc_ticks "$pid")
	for ((k = 1; k <= rpc_idle_passes; k++)); do
		wait_lines "$runlog" 'reconciled' $((seen + k)) 120 "$pid" ||
			{ tail -n 20 "$runlog" >&2; die "rpc: drover run made no idle pass"; }
		t1=$(proc_ticks "$pid")
		cpus+=("$(div "$((t1 - t0))" "$hz" 2) s ($(pass_kind "$runlog" $((seen + k))))")
		t0=$t1
	done
	rss=$(proc_kib "$pid" VmRSS)
	stop "$pid"
	rm -rf "$state" "$dir" "$dir.roles"
	local list
	list=$(printf '%s, ' "${cpus[@]}")
	rpc_idle_rows+=("| $n | $nh | $converge_s s | ${list%, } | $(kib_to_mib "$rss") MiB |")
	log "rpc: idle: $n VMs: converged after ${converge_s}s; idle passes ${list%, }; RSS ${rss}KiB"
}

bench_rpc() {
	cc -O2 -Wall -Wextra -Werror "$here/rpc_floor.c" -o "$out/rpc_floor" \
		$(pkg-config --cflags --libs libvirt) -lpthread
	bash "$root/hack/lab" up 1 >/dev/null
	mkdir -p "$rpc_dir"
	local s
	for s in $rpc_scales; do
		bench_rpc_scale "${s%%:*}" "${s#*:}"
		bench_rpc_idle "${s%%:*}" "${s#*:}"
	done
	rm -rf "$rpc_dir"
	bash "$root/hack/lab" down >/dev/null 2>&1 || log "rpc: hack/lab down failed"
}

rpc_table() {
	cat <<-EOF
	| VMs | hosts | runs | daemon's opens, drover / floor | drover plan, own wall / CPU | floor: list + XML | plan ÷ floor | drover's peak RSS | plan says |
	|---:|---:|---:|---:|---:|---:|---:|---:|---|
	EOF
	printf '%s\n' "${rpc_rows[@]}"
	cat <<-EOF

	Idle \`drover run\` over the same hosts (all VMs settled, each pass 30 s after the last):

	| VMs | hosts | start to converged | CPU of each idle pass | RSS at the end |
	|---:|---:|---:|---|---:|
	EOF
	printf '%s\n' "${rpc_idle_rows[@]}"
}
