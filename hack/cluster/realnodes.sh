# shellcheck shell=bash
# ROOT, BIN_DIR, CLUSTER_*, PKI, log, die, issue, start_process... come from cluster.sh.
# shellcheck disable=SC2153
# realnodes.sh: the local cluster's real nodes (CLUSTER_REAL_NODES=N), sourced by cluster.sh.
#
# Each real node is a kubelet (bin/kubelet) with a containerd of its own (own root, state and socket,
# so that no kubelet sees, and cleans up, another's containers), runc, and a CNI bridge of its own
# with a /24 of pod addresses. All of them share this machine's network namespace, so one kube-proxy
# (bin/kube-proxy, iptables mode) serves them all: a Service's ClusterIP answers from the host.
#
# Node i is real-<letter>-1 in zone real-<letter> (real-a-1 in real-a, real-b-1 in real-b...), labelled
# type=real and tainted haoperator.dev/real-node=true:NoSchedule, so that only pods that tolerate the
# taint and select the nodes run there; the kwok nodes are left as they are.
#
# Everything the nodes create is removed by stop_real_nodes, which then checks that nothing is left:
# processes, containers and their network namespaces, mounts, the bridges, iptables chains, cgroups.
# The KUBE- iptables chains belong to the machine, not to a cluster: one cluster with real nodes runs
# at a time on a machine.

REAL_NODE_TAINT=haoperator.dev/real-node
# The sandbox ("pause") image every pod starts with; built here (hack/realnodes/pause), never pulled.
PAUSE_IMAGE=ha-operator.local/pause:1
# Pod addresses of node i: 10.<second octet>.<i>.0/24, the second octet derived from the port base so
# that clusters with other port bases do not overlap (19400 → 10.194.0.0/16, 21400 → 10.214.0.0/16).
REAL_POD_OCTET=$(((CLUSTER_PORT_BASE / 100) % 256))
REAL_POD_CIDR=10.$REAL_POD_OCTET.0.0/16
KUBE_PROXY_HEALTHZ_PORT=$((CLUSTER_PORT_BASE + 98))
KUBE_PROXY_METRICS_PORT=$((CLUSTER_PORT_BASE + 99))
# Sockets must be short (108 bytes), hence a state dir under /run rather than in the repository.
REAL_RUN_DIR=/run/ha-operator-$CLUSTER_NAME

real_letter() {
	local letters=abcdefghijklmnopqrstuvwxyz
	echo "${letters:$(($1 - 1)):1}"
}
real_node_name() { echo "real-$(real_letter "$1")-1"; }
real_zone() { echo "real-$(real_letter "$1")"; }
real_node_dir() { echo "$CLUSTER_DIR/nodes/$(real_node_name "$1")"; }
real_run_dir() { echo "$REAL_RUN_DIR/$(real_node_name "$1")"; }
real_socket() { echo "$(real_run_dir "$1")/containerd.sock"; }
real_bridge() { echo "hk$CLUSTER_PORT_BASE-$1"; }
real_gateway() { echo "10.$REAL_POD_OCTET.$1.1"; }
real_cgroup_root() { echo "/ha-operator-$CLUSTER_NAME-$(real_node_name "$1")"; }

require_real_node_tools() {
	local missing=()
	for b in kubelet kube-proxy; do
		[[ -x $BIN_DIR/$b ]] || missing+=("$BIN_DIR/$b")
	done
	((${#missing[@]} == 0)) || die "missing ${missing[*]}: run 'make node-binaries', which builds them"
	for cmd in containerd runc ctr iptables ip; do
		command -v "$cmd" >/dev/null || die "$cmd is missing: hack/realnodes/install-packages.sh installs it"
	done
	[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] ||
		die "the CNI plugins are missing: hack/realnodes/install-packages.sh installs them"
	((EUID == 0)) || die "real nodes need root (containers, mounts, iptables)"
}

issue_real_node_pki() {
	local client='keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth' i node
	for ((i = 1; i <= CLUSTER_REAL_NODES; i++)); do
		node=$(real_node_name "$i")
		issue "kubelet-$node" "/O=system:nodes/CN=system:node:$node" "$client"
		write_kubeconfig "$CLUSTER_DIR/kubelet-$node.kubeconfig" "kubelet-$node"
	done
	issue kube-proxy "/CN=system:kube-proxy" "$client"
	write_kubeconfig "$CLUSTER_DIR/kube-proxy.kubeconfig" kube-proxy
}

# build_pause_image writes the sandbox image's docker archive from a static binary built here.
build_pause_image() {
	local out=$CLUSTER_DIR/images
	mkdir -p "$out"
	(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/pause" ./hack/realnodes/pause &&
		go run ./hack/realnodes/mkimage -binary "$out/pause" -tag "$PAUSE_IMAGE" -o "$out/pause.tar")
}

# write_real_node_config I: containerd's config, the CNI network and the kubelet's config of node I.
write_real_node_config() {
	local i=$1 node dir run port
	node=$(real_node_name "$i")
	dir=$(real_node_dir "$i")
	run=$(real_run_dir "$i")
	port=$((CLUSTER_PORT_BASE + 100 + 10 * i))
	mkdir -p "$dir/cni/net.d" "$dir/kubelet" "$run"
	cat >"$dir/containerd.toml" <<EOF
version = 2
root = "$dir/containerd"
state = "$run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$(real_socket "$i")"
[ttrpc]
  address = "$run/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This machine cannot lower oom_score_adj (no CAP_SYS_RESOURCE): without this every sandbox fails.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "$((port + 2))"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$run/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
EOF
	cat >"$dir/cni/net.d/10-bridge.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "ha-operator-$CLUSTER_NAME-$node",
  "plugins": [{
    "type": "bridge",
    "bridge": "$(real_bridge "$i")",
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "dataDir": "$dir/cni/ipam",
      "ranges": [[{"subnet": "10.$REAL_POD_OCTET.$i.0/24", "gateway": "$(real_gateway "$i")"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
EOF
	cat >"$dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(real_gateway "$i")
port: $port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $((port + 1))
containerRuntimeEndpoint: unix://$(real_socket "$i")
# A cgroup v1 (hybrid) host without systemd.
failCgroupV1: false
cgroupDriver: cgroupfs
# Each kubelet keeps to a cgroup tree of its own, so that none removes another's pods.
cgroupRoot: $(real_cgroup_root "$i")
failSwapOn: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: AlwaysAllow}
registerWithTaints:
- {key: $REAL_NODE_TAINT, value: "true", effect: NoSchedule}
nodeLeaseDurationSeconds: $NODE_LEASE_SECONDS
nodeStatusReportFrequency: 10s
# The test images are imported, never pulled: nothing may collect them, and a full disk must not
# evict the pods of a test.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%}
volumePluginDir: $dir/kubelet/volume-plugins
serializeImagePulls: false
EOF
}

# cgroup_dirs I prints node I's cgroup root in every mounted cgroup hierarchy.
cgroup_dirs() {
	local root hierarchy
	root=$(real_cgroup_root "$1")
	for hierarchy in /sys/fs/cgroup/*/; do
		[[ -e ${hierarchy}cgroup.procs ]] && echo "${hierarchy%/}$root"
	done
}

# create_cgroup_root I: the kubelet wants its cgroup root to exist in every hierarchy.
create_cgroup_root() {
	local dir parent
	for dir in $(cgroup_dirs "$1"); do
		mkdir -p "$dir"
		parent=$(dirname "$dir")
		# A v1 cpuset child has no CPUs or memory nodes until it is given its parent's.
		if [[ -e $dir/cpuset.cpus ]]; then
			cat "$parent/cpuset.cpus" >"$dir/cpuset.cpus"
			cat "$parent/cpuset.mems" >"$dir/cpuset.mems"
		fi
	done
}

start_real_node() {
	local i=$1 node dir bridge
	node=$(real_node_name "$i")
	dir=$(real_node_dir "$i")
	bridge=$(real_bridge "$i")
	write_real_node_config "$i"
	create_cgroup_root "$i"
	# The kubelet checks that its node IP is on an interface: the bridge exists before it starts
	# (the CNI plugin then finds it with the gateway address it would give it).
	ip link add name "$bridge" type bridge
	ip addr add "$(real_gateway "$i")/24" dev "$bridge"
	ip link set "$bridge" up
	start_process "containerd-$node" containerd --config "$dir/containerd.toml"
	wait_process "containerd-$node" 30 ctr --address "$(real_socket "$i")" version
	ctr --address "$(real_socket "$i")" -n k8s.io images import "$CLUSTER_DIR/images/pause.tar" >/dev/null
	start_process "kubelet-$node" "$BIN_DIR/kubelet" \
		--config "$dir/kubelet.yaml" \
		--kubeconfig "$CLUSTER_DIR/kubelet-$node.kubeconfig" \
		--root-dir "$dir/kubelet" \
		--cert-dir "$dir/kubelet/pki" \
		--hostname-override "$node" \
		--node-ip "$(real_gateway "$i")" \
		--node-labels "topology.kubernetes.io/zone=$(real_zone "$i"),topology.kubernetes.io/region=local,type=real" \
		--v 1
}

start_kube_proxy() {
	start_process kube-proxy "$BIN_DIR/kube-proxy" \
		--kubeconfig "$CLUSTER_DIR/kube-proxy.kubeconfig" \
		--proxy-mode iptables \
		--hostname-override "$(real_node_name 1)" \
		--cluster-cidr "$REAL_POD_CIDR" \
		--nodeport-addresses "$REAL_POD_CIDR" \
		--conntrack-max-per-core 0 \
		--conntrack-tcp-timeout-established 0 \
		--conntrack-tcp-timeout-close-wait 0 \
		--healthz-bind-address "127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT" \
		--metrics-bind-address "127.0.0.1:$KUBE_PROXY_METRICS_PORT"
	wait_process kube-proxy 30 curl -sf "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"
}

real_nodes_ready() {
	local status
	status=$(kubectl_ get nodes -l type=real \
		-o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}')
	[[ $(wc -w <<<"$status") -eq $CLUSTER_REAL_NODES && $status != *False* && $status != *Unknown* ]]
}

start_real_nodes() {
	((CLUSTER_REAL_NODES > 0)) || return 0
	log "starting $CLUSTER_REAL_NODES real nodes (containerd, kubelet) and kube-proxy..."
	# The service range, and any network this machine already routes, must not be the pods'.
	if [[ $REAL_POD_CIDR == 10.96.0.0/16 ]]; then
		die "pod range $REAL_POD_CIDR is the services' range: choose another CLUSTER_PORT_BASE"
	fi
	local route
	if route=$(ip route show | grep -m1 "^10\.$REAL_POD_OCTET\."); then
		# Often the bridge of a cluster whose processes were killed without a teardown.
		die "pod range $REAL_POD_CIDR is in use on this machine (route: $route): remove what holds it, or choose another CLUSTER_PORT_BASE"
	fi
	# kube-proxy's chains are the machine's, not the cluster's: one cluster with real nodes at a time.
	if iptables-save 2>/dev/null | grep -q -- '^:KUBE-SERVICES'; then
		die "another kube-proxy's chains (KUBE-*) are in iptables: one cluster with real nodes per machine"
	fi
	# The kubelets' group gets the node role; this cluster's API server authorizes with RBAC only.
	kubectl_ create clusterrolebinding ha-operator-nodes --clusterrole system:node --group system:nodes >/dev/null
	build_pause_image
	cat /proc/sys/net/ipv4/ip_forward >"$CLUSTER_DIR/ip_forward.before"
	local i
	for ((i = 1; i <= CLUSTER_REAL_NODES; i++)); do
		start_real_node "$i"
	done
	start_kube_proxy
	wait_for 90 "the real nodes to be Ready" real_nodes_ready || {
		kubectl_ get nodes -l type=real >&2 || true
		cmd_logs 30
		exit 1
	}
}

# cmd_import_image TAR: imports a docker archive into every real node's containerd.
cmd_import_image() {
	local tar=${1:?usage: import-image TAR}
	((CLUSTER_REAL_NODES > 0)) || die "this cluster has no real node"
	local i
	for ((i = 1; i <= CLUSTER_REAL_NODES; i++)); do
		ctr --address "$(real_socket "$i")" -n k8s.io images import "$tar" >/dev/null
	done
}

# real_node_index NODE prints the node's number (real-b-1 → 2) or fails for an unknown node.
real_node_index() {
	local i
	for ((i = 1; i <= CLUSTER_REAL_NODES; i++)); do
		if [[ $(real_node_name "$i") == "$1" ]]; then
			echo "$i"
			return 0
		fi
	done
	return 1
}

# real_node_pids I prints the pids of node I's kubelet, containerd and containerd's shims.
real_node_pids() {
	local node
	node=$(real_node_name "$1")
	pid_of "kubelet-$node" || true
	pid_of "containerd-$node" || true
	pgrep -f -- "-address $(real_socket "$1")" || true
}

# freeze_real_node I STATE: FROZEN stops node I dead (its kubelet, runtime and every container at
# once, through the freezer cgroup and SIGSTOP), THAWED resumes it.
freeze_real_node() {
	local i=$1 state=$2 freezer signal=STOP pid
	freezer=/sys/fs/cgroup/freezer$(real_cgroup_root "$i")/freezer.state
	[[ $state == THAWED ]] && signal=CONT
	if [[ $state == THAWED && -e $freezer ]]; then echo THAWED >"$freezer"; fi
	for pid in $(real_node_pids "$i"); do
		kill "-$signal" "$pid" 2>/dev/null || true
	done
	if [[ $state == FROZEN && -e $freezer ]]; then echo FROZEN >"$freezer"; fi
}

cmd_node_down() {
	local node=${1:?usage: node-down NODE} i
	i=$(real_node_index "$node") || die "unknown real node $node"
	freeze_real_node "$i" FROZEN
	log "real node $node is down: its kubelet, containerd and containers are frozen"
}

cmd_node_up() {
	local node=${1:?usage: node-up NODE} i
	i=$(real_node_index "$node") || die "unknown real node $node"
	freeze_real_node "$i" THAWED
	wait_for 60 "the real nodes to be Ready" real_nodes_ready
	log "real node $node is up"
}

# --- teardown ----------------------------------------------------------------------------------------

# stop_real_node I: stops node I's kubelet, kills and deletes its containers, stops its containerd and
# removes what they leave: network namespaces, mounts, the bridge and the cgroups.
stop_real_node() {
	local i=$1 node dir run sock netns=() id ns
	node=$(real_node_name "$i")
	dir=$(real_node_dir "$i")
	run=$(real_run_dir "$i")
	sock=$(real_socket "$i")
	# A node that is down (frozen) could not even die.
	freeze_real_node "$i" THAWED
	stop_process "kubelet-$node"
	if pid_of "containerd-$node" >/dev/null && ctr --address "$sock" version >/dev/null 2>&1; then
		for id in $(ctr --address "$sock" -n k8s.io containers list -q 2>/dev/null); do
			ns=$(ctr --address "$sock" -n k8s.io containers info "$id" 2>/dev/null |
				grep -o '/var/run/netns/cni-[0-9a-f-]*' | head -n 1) || true
			[[ -n $ns ]] && netns+=("$ns")
			ctr --address "$sock" -n k8s.io tasks kill -s KILL "$id" >/dev/null 2>&1 || true
		done
		for id in $(ctr --address "$sock" -n k8s.io tasks list -q 2>/dev/null); do
			ctr --address "$sock" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
		done
		for id in $(ctr --address "$sock" -n k8s.io containers list -q 2>/dev/null); do
			ctr --address "$sock" -n k8s.io containers delete "$id" >/dev/null 2>&1 || true
		done
	fi
	stop_process "containerd-$node"
	# Shims outlive containerd; theirs name its socket.
	local pid
	for pid in $(pgrep -f -- "-address $sock" || true); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	# Network namespaces: those recorded above, and any that the state dir still names.
	if [[ -d $run ]]; then
		while IFS= read -r ns; do netns+=("$ns"); done < <(grep -rhos '/var/run/netns/cni-[0-9a-f-]*' "$run" 2>/dev/null | sort -u)
	fi
	for ns in "${netns[@]}"; do
		umount "$ns" 2>/dev/null || true
		rm -f "$ns"
	done
	unmount_under "$dir"
	unmount_under "$run"
	ip link del "$(real_bridge "$i")" 2>/dev/null || true
	remove_cgroups "$i"
	printf '%s\n' "${netns[@]}" >>"$CLUSTER_DIR/netns.removed"
}

# unmount_under DIR: every mount at or below DIR, deepest first.
unmount_under() {
	local dir=$1 mnt
	[[ -n $dir ]] || return 0
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while IFS= read -r mnt; do
			umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
		done
}

remove_cgroups() {
	local dir
	for dir in $(cgroup_dirs "$1"); do
		[[ -d $dir ]] || continue
		# Any process still in the tree is a container the runtime failed to stop.
		find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
			kill -KILL "$pid" 2>/dev/null || true
		done
		find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# remove_kube_chains removes the iptables chains that kube-proxy and the kubelets create (KUBE-*)
# and the rules that jump to them, in every table, for IPv4 and IPv6.
remove_kube_chains() {
	local tool table
	for tool in iptables ip6tables; do
		command -v "$tool" >/dev/null || continue
		for table in filter nat mangle raw; do
			"$tool"-save -t "$table" 2>/dev/null | grep -q -- 'KUBE-' || continue
			# One transaction: the built-in chains' jumps to KUBE- chains go, then the chains are
			# flushed (they jump to each other) and deleted. iptables-restore parses the quoted
			# comments of the rules as iptables-save wrote them.
			"$tool"-save -t "$table" | awk -v table="$table" '
				BEGIN { print "*" table }
				/^:KUBE-/ { chains[++n] = substr($1, 2) }
				/^-A [A-Z]+ .*-j KUBE-/ && $2 !~ /^KUBE-/ { sub(/^-A /, "-D "); print }
				END {
					for (i = 1; i <= n; i++) print "-F " chains[i]
					for (i = 1; i <= n; i++) print "-X " chains[i]
					print "COMMIT"
				}' | "$tool"-restore --noflush || log "could not remove the KUBE- chains of $tool table $table"
		done
	done
}

# stop_real_nodes COUNT: stops and removes the cluster's COUNT real nodes and kube-proxy.
stop_real_nodes() {
	local count=${1:-0} i
	((count > 0)) || return 0
	stop_process kube-proxy
	for ((i = 1; i <= count; i++)); do
		stop_real_node "$i"
	done
	remove_kube_chains
	if [[ -f $CLUSTER_DIR/ip_forward.before ]]; then
		cat "$CLUSTER_DIR/ip_forward.before" >/proc/sys/net/ipv4/ip_forward
	fi
	rm -rf "$REAL_RUN_DIR"
	# containerd made the directory of the network namespaces, and its shims that of their sockets
	# (a fixed path in containerd 1.6); they go if nothing else uses them.
	rmdir /run/netns /run/containerd/s /run/containerd 2>/dev/null || true
	check_real_nodes_gone "$count"
}

# check_real_nodes_gone COUNT fails, listing them, if any leftovers of the COUNT real nodes remain.
check_real_nodes_gone() {
	local count=$1 i left=() dir ns tool
	for ((i = 1; i <= count; i++)); do
		pgrep -f -- "$(real_socket "$i")" >/dev/null && left+=("processes of $(real_socket "$i")")
		ip link show "$(real_bridge "$i")" >/dev/null 2>&1 && left+=("bridge $(real_bridge "$i")")
		for dir in $(cgroup_dirs "$i"); do
			[[ -d $dir ]] && left+=("cgroup $dir")
		done
	done
	if awk -v a="$CLUSTER_DIR/nodes" -v b="$REAL_RUN_DIR" \
		'index($5, a) == 1 || index($5, b) == 1 {found = 1} END {exit !found}' /proc/self/mountinfo; then
		left+=("mounts under $CLUSTER_DIR/nodes or $REAL_RUN_DIR")
	fi
	if [[ -f $CLUSTER_DIR/netns.removed ]]; then
		while IFS= read -r ns; do
			[[ -n $ns && -e $ns ]] && left+=("network namespace $ns")
		done <"$CLUSTER_DIR/netns.removed"
	fi
	for tool in iptables ip6tables; do
		command -v "$tool" >/dev/null || continue
		"$tool"-save 2>/dev/null | grep -q -- 'KUBE-' && left+=("$tool chains KUBE-*")
	done
	if ((${#left[@]})); then
		log "the real nodes left: ${left[*]}"
		return 1
	fi
	log "real nodes removed: no process, container, mount, bridge, iptables chain or cgroup left"
}
