#!/usr/bin/env bash
# cluster.sh runs a local, simulated multi-zone Kubernetes cluster without containers: etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler built from source (bin/), and kwok
# playing the kubelets of fake nodes (one kwok per zone, so that a zone can fail on its own, and one
# for storage). Everything listens on 127.0.0.1 only; certificates are generated at start-up.
#
# Usage: hack/cluster/cluster.sh COMMAND [ARGS]
#   up                  start a fresh cluster (does nothing if it is already running)
#   down                stop every process of the cluster (operator included) and delete its data
#   status              check every process, the API server and that every node is Ready
#   zone-down ZONE [--out-of-service]
#                       stop the kwok of ZONE: its nodes stop heartbeating, as in a zone outage; with
#                       --out-of-service, also taint them node.kubernetes.io/out-of-service, as an
#                       administrator does once the nodes are known to be down: their pods, those of
#                       StatefulSets included, are then deleted for good and created again elsewhere
#   zone-up ZONE        start the kwok of ZONE again, wait for its nodes to renew their Leases and be
#                       Ready, and remove the out-of-service taint
#   operator-start [--replica N] [--leader-elect]
#                       run bin/manager against the cluster in the background (log in the state dir),
#                       as the operator's own ServiceAccount with exactly the RBAC of config/rbac;
#                       replica N > 1 is another instance (process operator-N, log operator-N.log,
#                       health port +N-1); --leader-elect turns leader election on (Lease in the
#                       operator's namespace)
#   operator-stop [--kill] [--replica N]  stop the operator (SIGTERM, or SIGKILL with --kill)
#   apiserver-stop      kill (SIGKILL) kube-apiserver, leaving etcd and everything else running: an
#                       outage of the API server, its clients' connections refused
#   apiserver-start     start kube-apiserver again with the same flags and data, wait until it is ready,
#                       and restart the controller-manager, the scheduler and the running kwoks around
#                       it, as the kubelet restarts leader-elected controllers that lost their lease
#   import-image TAR    import a docker archive into every real node's containerd
#   node-down NODE      freeze a real node (kubelet, containerd, containers), as in a power failure
#   node-up NODE        resume it and wait for it to be Ready
#   logs [LINES]        print the last LINES (default 100) of every log of the cluster
#   env                 print the export line for the cluster's kubeconfig
#
# Settings (environment):
#   CLUSTER_NAME            demo (default) or e2e or any name: selects the state dir and the ports
#   CLUSTER_DIR             state dir, default .cluster/$CLUSTER_NAME in the repository
#   CLUSTER_PORT_BASE       first of the ports used (demo 16400, e2e 17400, others 18400)
#   CLUSTER_ZONES           zones, default "zone-a zone-b zone-c"
#   CLUSTER_NODES_PER_ZONE  nodes per zone, default 2
#   CLUSTER_PROFILING       true: the API server serves /debug/pprof (to an admin kubeconfig), default false
#   CLUSTER_MISSING_IMAGES  regular expression of images that cannot be pulled (see README.md)
#   CLUSTER_NODE_LEASE_SECONDS  the nodes' Lease duration (renewed every quarter of it), default 20
#   CLUSTER_NODE_MONITOR_GRACE  the node lifecycle controller's --node-monitor-grace-period, default 20s
#                           (a real cluster's defaults: 40 and 50s)
#   CLUSTER_REAL_NODES      real nodes (kubelet, containerd, runc) besides the kwok ones, default 0;
#                           see realnodes.sh (needs root, bin/kubelet, bin/kube-proxy and the packages
#                           that hack/realnodes/install-packages.sh installs)
#   MANAGER_BIN             the operator binary, default bin/manager
#   OPERATOR_ARGS           extra flags for the operator
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/hack/cluster
BIN_DIR=${BIN_DIR:-$ROOT/bin}
KUBECTL=${KUBECTL:-kubectl}
MANAGER_BIN=${MANAGER_BIN:-$BIN_DIR/manager}
# Where config/default installs the operator: its namespace and the prefix of its objects' names.
OPERATOR_NAMESPACE=ha-operator-system
OPERATOR_SERVICE_ACCOUNT=ha-operator-controller-manager

CLUSTER_NAME=${CLUSTER_NAME:-demo}
CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/.cluster/$CLUSTER_NAME}
# The shape `up` started the cluster with; every later command works on that cluster.
SETTINGS=$CLUSTER_DIR/settings
if [[ ${1:-} != up && -f $SETTINGS ]]; then
	# shellcheck source=/dev/null
	source "$SETTINGS"
fi
case $CLUSTER_NAME in
demo) default_port_base=16400 ;;
e2e) default_port_base=17400 ;;
*) default_port_base=18400 ;;
esac
CLUSTER_PORT_BASE=${CLUSTER_PORT_BASE:-$default_port_base}
CLUSTER_ZONES=${CLUSTER_ZONES:-zone-a zone-b zone-c}
CLUSTER_NODES_PER_ZONE=${CLUSTER_NODES_PER_ZONE:-2}
CLUSTER_REAL_NODES=${CLUSTER_REAL_NODES:-0}
CLUSTER_NODE_LEASE_SECONDS=${CLUSTER_NODE_LEASE_SECONDS:-20}
CLUSTER_NODE_MONITOR_GRACE=${CLUSTER_NODE_MONITOR_GRACE:-20s}
MANAGER_BIN=${MANAGER_BIN:-$BIN_DIR/manager}
# nginx:1.91 is a typo of 1.9.1, a tag that does not exist; registries under the reserved
# .invalid domain cannot resolve; a tag containing "does-not-exist" says what it is.
CLUSTER_MISSING_IMAGES=${CLUSTER_MISSING_IMAGES:-'^(nginx:1\.91|[^/]+\.invalid/.*|.*:.*does-not-exist.*)$'}

APISERVER_PORT=$((CLUSTER_PORT_BASE + 43))
CONTROLLER_MANAGER_PORT=$((CLUSTER_PORT_BASE + 57))
SCHEDULER_PORT=$((CLUSTER_PORT_BASE + 59))
ETCD_PORT=$((CLUSTER_PORT_BASE + 79))
ETCD_PEER_PORT=$((CLUSTER_PORT_BASE + 80))
OPERATOR_HEALTH_PORT=$((CLUSTER_PORT_BASE + 81))

# Liveness: kwok renews each node lease every quarter of its duration; the node lifecycle controller
# marks a node NotReady when neither lease nor status moved for the grace period, then taints it,
# and pods tolerate the taint for the API server's default toleration before they are evicted.
NODE_LEASE_SECONDS=$CLUSTER_NODE_LEASE_SECONDS
NODE_MONITOR_GRACE=$CLUSTER_NODE_MONITOR_GRACE
POD_TOLERATION_SECONDS=10
# The taint of Kubernetes' non-graceful node shutdown: on a NotReady node that carries it, the pod
# garbage collector deletes the terminating pods for good (a StatefulSet's pod would otherwise stay
# Terminating on an unreachable node, and never be created again elsewhere).
OUT_OF_SERVICE_TAINT=node.kubernetes.io/out-of-service

PKI=$CLUSTER_DIR/pki
LOGS=$CLUSTER_DIR/logs
PIDS=$CLUSTER_DIR/pids
KUBECONFIG_FILE=$CLUSTER_DIR/kubeconfig
OPERATOR_KUBECONFIG=$CLUSTER_DIR/operator.kubeconfig

# shellcheck source=hack/cluster/realnodes.sh
source "$HERE/realnodes.sh"

log() { printf '[cluster %s] %s\n' "$CLUSTER_NAME" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# wait_for TIMEOUT_SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2s until it succeeds.
wait_for() {
	local timeout=$1 what=$2
	shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			log "timed out after ${timeout}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

# wait_process NAME TIMEOUT_SECONDS COMMAND...: like wait_for, for a process of the cluster that is
# starting: it fails at once, showing the end of its log, if the process exits.
wait_process() {
	local name=$1 timeout=$2
	shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		# The pid just recorded, not pid_of: between fork and exec the child still has the shell's
		# command line, without the state dir that pid_of looks for.
		if ! running "$(<"$PIDS/$name.pid")"; then
			log "$name exited; the end of $LOGS/$name.log:"
			tail -n 20 "$LOGS/$name.log" >&2
			return 1
		fi
		if ((SECONDS >= deadline)); then
			log "timed out after ${timeout}s waiting for $name; the end of $LOGS/$name.log:"
			tail -n 20 "$LOGS/$name.log" >&2
			return 1
		fi
		sleep 0.2
	done
}

kubectl_() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# pid_of NAME prints the pid of the cluster's process NAME if it is running.
pid_of() {
	local file=$PIDS/$1.pid pid
	[[ -f $file ]] || return 1
	pid=$(<"$file")
	# The pid must still be ours: a process of this state dir (pids are reused).
	[[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$CLUSTER_DIR" || return 1
	echo "$pid"
}

# start_process NAME COMMAND...: runs COMMAND detached (its own session, so that an interrupted make
# does not take it down), logging to logs/NAME.log.
start_process() {
	local name=$1
	shift
	setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
	echo $! >"$PIDS/$name.pid"
}

# running PID: the process exists and is not a zombie waiting for its parent to reap it.
running() {
	local state
	state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
	[[ -n $state && $state != Z ]]
}

# stop_processes SIGNAL NAME...: signals the processes at once and waits for them to exit, killing
# those still running after 10s.
stop_processes() {
	local signal=$1 name pid
	shift
	local pids=()
	for name in "$@"; do
		if pid=$(pid_of "$name"); then
			kill "-$signal" "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
		rm -f "$PIDS/$name.pid"
	done
	local deadline=$((SECONDS + 10))
	for pid in "${pids[@]}"; do
		while running "$pid"; do
			if ((SECONDS >= deadline)); then
				log "pid $pid did not stop; killing it"
				kill -KILL "$pid" 2>/dev/null || true
			fi
			sleep 0.05
		done
	done
}

# stop_process NAME [SIGNAL]: stops one process (SIGTERM by default).
stop_process() { stop_processes "${2:-TERM}" "$1"; }

require_binaries() {
	local missing=()
	for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
		[[ -x $BIN_DIR/$b ]] || missing+=("$BIN_DIR/$b")
	done
	((${#missing[@]} == 0)) || die "missing ${missing[*]}: run 'make cluster-up', which builds them"
}

# --- certificates ----------------------------------------------------------------------------------

# issue NAME SUBJECT EXTENSIONS: an ECDSA key and a certificate signed by the cluster's CA.
issue() {
	local name=$1 subject=$2 extensions=$3
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr" 2>/dev/null
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 3650 -out "$PKI/$name.crt" \
		-extfile <(printf '%b' "$extensions") 2>/dev/null
	rm -f "$PKI/$name.csr"
}

generate_pki() {
	mkdir -p "$PKI"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 \
		-subj "/CN=ha-operator-$CLUSTER_NAME-ca" 2>/dev/null
	local client='keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth'
	issue apiserver "/CN=kube-apiserver" \
		"keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	issue admin "/O=system:masters/CN=ha-operator-admin" "$client"
	issue controller-manager "/CN=system:kube-controller-manager" "$client"
	issue scheduler "/CN=system:kube-scheduler" "$client"
	issue kwok "/O=system:masters/CN=kwok" "$client"
	# The front proxy's identity: with it, components that delegate authentication find the
	# request-header CA they look for (and do not log its absence).
	issue front-proxy-client "/CN=front-proxy-client" "$client"
	# The API server's identity towards kubelets (logs, exec of the real nodes' pods).
	issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
	((CLUSTER_REAL_NODES == 0)) || issue_real_node_pki
	openssl genrsa -out "$PKI/service-account.key" 2048 2>/dev/null
	openssl rsa -in "$PKI/service-account.key" -pubout -out "$PKI/service-account.pub" 2>/dev/null
	for user in admin controller-manager scheduler kwok; do
		write_kubeconfig "$CLUSTER_DIR/$user.kubeconfig" "$user"
	done
	cp "$CLUSTER_DIR/admin.kubeconfig" "$KUBECONFIG_FILE"
}

write_kubeconfig() {
	local file=$1 user=$2
	cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ha-operator-$CLUSTER_NAME
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $user
  user:
    client-certificate: $PKI/$user.crt
    client-key: $PKI/$user.key
contexts:
- name: ha-operator-$CLUSTER_NAME
  context:
    cluster: ha-operator-$CLUSTER_NAME
    user: $user
current-context: ha-operator-$CLUSTER_NAME
EOF
}

# --- control plane -----------------------------------------------------------------------------------

start_etcd() {
	start_process etcd "$BIN_DIR/etcd" \
		--name default \
		--data-dir "$CLUSTER_DIR/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" \
		--unsafe-no-fsync \
		--log-level warn
	wait_process etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"
}

start_apiserver() {
	start_process kube-apiserver "$BIN_DIR/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address 127.0.0.1 \
		--advertise-address 127.0.0.1 \
		--endpoint-reconciler-type none \
		--secure-port "$APISERVER_PORT" \
		--tls-cert-file "$PKI/apiserver.crt" \
		--tls-private-key-file "$PKI/apiserver.key" \
		--client-ca-file "$PKI/ca.crt" \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$PKI/service-account.pub" \
		--service-account-signing-key-file "$PKI/service-account.key" \
		--service-cluster-ip-range 10.96.0.0/16 \
		--authorization-mode RBAC \
		--enable-admission-plugins OwnerReferencesPermissionEnforcement \
		--allow-privileged=true \
		--enable-priority-and-fairness=false \
		--profiling="${CLUSTER_PROFILING:-false}" \
		--default-not-ready-toleration-seconds "$POD_TOLERATION_SECONDS" \
		--default-unreachable-toleration-seconds "$POD_TOLERATION_SECONDS" \
		--requestheader-client-ca-file "$PKI/ca.crt" \
		--requestheader-allowed-names front-proxy-client \
		--requestheader-username-headers X-Remote-User \
		--requestheader-group-headers X-Remote-Group \
		--requestheader-extra-headers-prefix X-Remote-Extra- \
		--proxy-client-cert-file "$PKI/front-proxy-client.crt" \
		--proxy-client-key-file "$PKI/front-proxy-client.key" \
		--kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
		--kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
		--kubelet-preferred-address-types InternalIP \
		--cert-dir "$PKI"
	wait_process kube-apiserver 60 kubectl_ get --raw /readyz
}

start_controller_manager() {
	start_process kube-controller-manager "$BIN_DIR/kube-controller-manager" \
		--kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
		--authentication-kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
		--authorization-kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
		--bind-address 127.0.0.1 \
		--secure-port "$CONTROLLER_MANAGER_PORT" \
		--leader-elect=false \
		--controllers '*' \
		--use-service-account-credentials=true \
		--service-account-private-key-file "$PKI/service-account.key" \
		--root-ca-file "$PKI/ca.crt" \
		--cluster-signing-cert-file "$PKI/ca.crt" \
		--cluster-signing-key-file "$PKI/ca.key" \
		--cluster-name "ha-operator-$CLUSTER_NAME" \
		--node-monitor-period 2s \
		--node-monitor-grace-period "$NODE_MONITOR_GRACE" \
		--node-eviction-rate 10 \
		--secondary-node-eviction-rate 10 \
		--kube-api-qps 100 \
		--kube-api-burst 200 \
		--profiling=false
}

start_scheduler() {
	start_process kube-scheduler "$BIN_DIR/kube-scheduler" \
		--kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
		--authentication-kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
		--authorization-kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
		--bind-address 127.0.0.1 \
		--secure-port "$SCHEDULER_PORT" \
		--leader-elect=false \
		--kube-api-qps 100 \
		--kube-api-burst 200 \
		--profiling=false
}

# --- nodes and kwok ----------------------------------------------------------------------------------

# render_stages writes the kwok configurations: node and pod stages for the zones, with the
# missing-image pattern filled in; volume stages for the storage kwok, with the zone of every node and
# the first zone filled in (see node_zones).
render_stages() {
	local pattern=${CLUSTER_MISSING_IMAGES//\\/\\\\}
	pattern=${pattern//&/\\&}
	pattern=${pattern//|/\\|}
	: >"$CLUSTER_DIR/kwok-nodes.yaml"
	for f in "$HERE"/stages/node-*.yaml "$HERE"/stages/pod-*.yaml; do
		printf -- '---\n' >>"$CLUSTER_DIR/kwok-nodes.yaml"
		sed "s|@MISSING_IMAGES@|$pattern|g" "$f" >>"$CLUSTER_DIR/kwok-nodes.yaml"
	done
	local zones first_zone
	zones=$(node_zones)
	read -r first_zone _ <<<"$CLUSTER_ZONES"
	: >"$CLUSTER_DIR/kwok-storage.yaml"
	for f in "$HERE"/stages/pv-*.yaml "$HERE"/stages/pvc-*.yaml; do
		printf -- '---\n' >>"$CLUSTER_DIR/kwok-storage.yaml"
		sed -e "s|@NODE_ZONES@|$zones|g" -e "s|@FIRST_ZONE@|$first_zone|g" "$f" >>"$CLUSTER_DIR/kwok-storage.yaml"
	done
}

# node_zones prints the zone of every node that `up` creates, as the label topology.kubernetes.io/zone
# gives it, in a JSON object ({"node-a-1": "zone-a", ...}) that the volume stages read both in CEL and
# in templates: a zonal volume takes the zone of the node selected for its claim's first pod, and
# kwok's templates cannot read another object than the claim.
node_zones() {
	local zone node i entries=()
	for zone in $CLUSTER_ZONES; do
		for node in $(node_names "$zone"); do
			entries+=("\"$node\": \"$zone\"")
		done
	done
	for ((i = 1; i <= CLUSTER_REAL_NODES; i++)); do
		entries+=("\"$(real_node_name "$i")\": \"$(real_zone "$i")\"")
	done
	local IFS=,
	echo "{${entries[*]}}"
}

# zone_index ZONE prints the zone's position (1-based) or fails for an unknown zone.
zone_index() {
	local i=1
	for z in $CLUSTER_ZONES; do
		if [[ $z == "$1" ]]; then
			echo "$i"
			return 0
		fi
		i=$((i + 1))
	done
	return 1
}

# node_names ZONE prints the names of the zone's nodes: zone-a → node-a-1, node-a-2...
node_names() {
	local suffix=${1#zone-}
	for ((n = 1; n <= CLUSTER_NODES_PER_ZONE; n++)); do
		echo "node-$suffix-$n"
	done
}

create_nodes() {
	local manifest=$CLUSTER_DIR/nodes.yaml
	: >"$manifest"
	for zone in $CLUSTER_ZONES; do
		for node in $(node_names "$zone"); do
			cat >>"$manifest" <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $node
  labels:
    kubernetes.io/hostname: $node
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node.kubernetes.io/instance-type: kwok-8cpu-32gi
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: $zone
    type: kwok
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
EOF
		done
	done
	kubectl_ apply -f "$manifest" >/dev/null
}

start_zone() {
	local zone=$1 index
	index=$(zone_index "$zone") || die "unknown zone $zone (zones: $CLUSTER_ZONES)"
	start_process "kwok-$zone" "$BIN_DIR/kwok" \
		--config "$CLUSTER_DIR/kwok-nodes.yaml" \
		--kubeconfig "$CLUSTER_DIR/kwok.kubeconfig" \
		--manage-nodes-with-label-selector "topology.kubernetes.io/zone=$zone" \
		--node-lease-duration-seconds "$NODE_LEASE_SECONDS" \
		--cidr "10.244.$index.0/24" \
		--node-ip "10.240.0.$index"
}

start_storage() {
	# This kwok manages no node: it only runs the volume stages (provisioning, binding, release).
	start_process kwok-storage "$BIN_DIR/kwok" \
		--config "$CLUSTER_DIR/kwok-storage.yaml" \
		--kubeconfig "$CLUSTER_DIR/kwok.kubeconfig" \
		--manage-single-node ha-operator-no-such-node
}

zone_ready() {
	local zone=$1 status
	status=$(kubectl_ get nodes -l "topology.kubernetes.io/zone=$zone" \
		-o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}')
	[[ $(wc -w <<<"$status") -eq $CLUSTER_NODES_PER_ZONE && $status != *False* && $status != *Unknown* ]]
}

# zone_renewed ZONE SINCE: every node of ZONE has renewed its Lease at SINCE (Unix seconds) or later.
zone_renewed() {
	local zone=$1 since=$2 node renewed
	for node in $(kubectl_ get nodes -l "topology.kubernetes.io/zone=$zone" -o jsonpath='{.items[*].metadata.name}'); do
		renewed=$(kubectl_ -n kube-node-lease get lease "$node" -o jsonpath='{.spec.renewTime}' 2>/dev/null) || return 1
		[[ -n $renewed ]] && (($(date -d "$renewed" +%s) >= since)) || return 1
	done
}

all_nodes_ready() {
	for zone in $CLUSTER_ZONES; do
		zone_ready "$zone" || return 1
	done
}

default_service_account() { kubectl_ -n default get serviceaccount default; }

# --- commands ----------------------------------------------------------------------------------------

cmd_up() {
	if pid_of kube-apiserver >/dev/null; then
		log "already running; kubeconfig: $KUBECONFIG_FILE"
		# shellcheck source=/dev/null
		[[ -f $SETTINGS ]] && source "$SETTINGS"
		cmd_status
		return
	fi
	require_binaries
	((CLUSTER_REAL_NODES == 0)) || require_real_node_tools
	command -v openssl >/dev/null || die "openssl is needed to generate the cluster's certificates"
	local started_at
	started_at=$(date +%s.%N)
	# Leftovers of a cluster that was not stopped cleanly (a killed make, a reboot).
	stop_all || die "the last cluster's real nodes left something behind (listed above)"
	rm -rf "$CLUSTER_DIR"
	mkdir -p "$LOGS" "$PIDS"
	for setting in CLUSTER_PORT_BASE CLUSTER_ZONES CLUSTER_NODES_PER_ZONE CLUSTER_MISSING_IMAGES CLUSTER_REAL_NODES \
		CLUSTER_NODE_LEASE_SECONDS CLUSTER_NODE_MONITOR_GRACE; do
		printf '%s=%q\n' "$setting" "${!setting}"
	done >"$SETTINGS"
	generate_pki
	render_stages
	log "starting etcd, kube-apiserver (https://127.0.0.1:$APISERVER_PORT)..."
	start_etcd
	start_apiserver
	start_controller_manager
	start_scheduler
	kubectl_ apply -f "$HERE/storageclass.yaml" >/dev/null
	create_nodes
	for zone in $CLUSTER_ZONES; do
		start_zone "$zone"
	done
	start_storage
	log "waiting for the nodes to be Ready..."
	wait_for 60 "the nodes to be Ready" all_nodes_ready || {
		cmd_logs 20
		exit 1
	}
	wait_for 30 "the default service account" default_service_account
	start_real_nodes
	log "up in $(awk -v a="$started_at" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s" \
		"($(($(wc -w <<<"$CLUSTER_ZONES") * CLUSTER_NODES_PER_ZONE)) nodes in zones: $CLUSTER_ZONES;" \
		"$CLUSTER_REAL_NODES real nodes)"
	kubectl_ get nodes -L topology.kubernetes.io/zone >&2
	log "kubeconfig: $KUBECONFIG_FILE"
	echo "export KUBECONFIG=$KUBECONFIG_FILE"
}

# stop_all stops every process of the state dir: the operator and the kwoks first, the real nodes
# (removing all they created; it fails if something is left), the control plane next, etcd last.
stop_all() {
	[[ -d $PIDS ]] || return 0
	local kwoks=() operators=() file rc=0
	for file in "$PIDS"/kwok-*.pid; do
		[[ -e $file ]] && kwoks+=("$(basename "$file" .pid)")
	done
	for file in "$PIDS"/operator-*.pid; do
		[[ -e $file ]] && operators+=("$(basename "$file" .pid)")
	done
	stop_processes TERM operator "${operators[@]}" "${kwoks[@]}"
	# The real nodes of the cluster that ran last, whatever this command's environment says.
	if [[ -f $SETTINGS ]]; then
		stop_real_nodes "$(sed -n 's/^CLUSTER_REAL_NODES=//p' "$SETTINGS")" || rc=1
	fi
	stop_processes TERM kube-scheduler kube-controller-manager
	stop_processes TERM kube-apiserver
	stop_processes TERM etcd
	return "$rc"
}

cmd_down() {
	# Never delete the state dir over something the real nodes left mounted.
	stop_all || die "the teardown left something behind (listed above); the state dir is kept"
	if [[ -d $CLUSTER_DIR ]]; then
		# Keep the logs for a post-mortem; the data, keys and kubeconfigs go.
		find "$CLUSTER_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
	fi
	log "stopped"
}

cmd_status() {
	local failed=0 i name
	for name in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-storage; do
		pid_of "$name" >/dev/null || {
			log "$name is not running"
			failed=1
		}
	done
	for zone in $CLUSTER_ZONES; do
		pid_of "kwok-$zone" >/dev/null || log "kwok-$zone is not running (zone $zone is down)"
	done
	for ((i = 1; i <= CLUSTER_REAL_NODES; i++)); do
		for name in "containerd-$(real_node_name "$i")" "kubelet-$(real_node_name "$i")"; do
			pid_of "$name" >/dev/null || {
				log "$name is not running"
				failed=1
			}
		done
	done
	if ((CLUSTER_REAL_NODES > 0)) && ! pid_of kube-proxy >/dev/null; then
		log "kube-proxy is not running"
		failed=1
	fi
	((failed == 0)) || return 1
	wait_for 30 "the API server" kubectl_ get --raw /readyz || return 1
	wait_for 60 "the nodes to be Ready" all_nodes_ready || {
		kubectl_ get nodes -L topology.kubernetes.io/zone >&2
		return 1
	}
	if ((CLUSTER_REAL_NODES > 0)); then
		wait_for 60 "the real nodes to be Ready" real_nodes_ready || return 1
	fi
	kubectl_ get nodes -L topology.kubernetes.io/zone >&2
	if pid_of operator >/dev/null; then log "operator: running (log $LOGS/operator.log)"; fi
	log "kubeconfig: $KUBECONFIG_FILE"
}

cmd_zone_down() {
	local zone=${1:?usage: zone-down ZONE [--out-of-service]} out_of_service=false
	case ${2:-} in
	'') ;;
	--out-of-service) out_of_service=true ;;
	*) die "zone-down: unknown argument $2" ;;
	esac
	zone_index "$zone" >/dev/null || die "unknown zone $zone (zones: $CLUSTER_ZONES)"
	# SIGKILL: the zone's kubelets vanish without a goodbye, as in a power or network failure.
	stop_process "kwok-$zone" KILL
	log "zone $zone is down: its nodes stop renewing their leases"
	if $out_of_service; then
		kubectl_ taint nodes --overwrite -l "topology.kubernetes.io/zone=$zone" \
			"$OUT_OF_SERVICE_TAINT=nodeshutdown:NoExecute" >/dev/null
		log "its nodes are tainted $OUT_OF_SERVICE_TAINT: their pods go for good once the nodes are NotReady"
	fi
}

cmd_zone_up() {
	local zone=${1:?usage: zone-up ZONE} node keys since
	if ! pid_of "kwok-$zone" >/dev/null; then
		since=$(date +%s)
		start_zone "$zone"
		# Until its nodes renew their Leases, the node lifecycle controller may still take them for
		# lost (its grace period runs from the last renewal before the zone went down) and mark their
		# pods not ready after this returns, in the middle of whatever runs next.
		wait_for 60 "the nodes of $zone to renew their Leases" zone_renewed "$zone" "$since"
	fi
	wait_for 60 "the nodes of $zone to be Ready" zone_ready "$zone"
	kubectl_ get nodes -l "topology.kubernetes.io/zone=$zone" \
		-o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.taints[*].key}{"\n"}{end}' |
		while read -r node keys; do
			if [[ " $keys " == *" $OUT_OF_SERVICE_TAINT "* ]]; then
				kubectl_ taint nodes "$node" "$OUT_OF_SERVICE_TAINT-" >/dev/null
			fi
		done
	log "zone $zone is up"
}

operator_healthy() { curl -sf "http://127.0.0.1:${1:-$OPERATOR_HEALTH_PORT}/readyz"; }

# operator_instance N prints the process name of the operator's replica N: operator, operator-2...
operator_instance() {
	[[ $1 =~ ^[1-9][0-9]*$ ]] || die "replica must be a positive number, not '$1'"
	if (($1 == 1)); then echo operator; else echo "operator-$1"; fi
}

# operator_identity installs the operator's ServiceAccount and RBAC as config/default does (config/rbac
# in its namespace, names prefixed) and writes a kubeconfig with a token of that ServiceAccount, so
# that the operator runs with exactly the permissions it ships with: a rule missing from config/rbac
# fails here as it would in a real cluster.
operator_identity() {
	local kustomization token
	kustomization=$(mktemp -d)
	cat >"$kustomization/kustomization.yaml" <<EOF
namespace: $OPERATOR_NAMESPACE
namePrefix: ha-operator-
resources:
- $(realpath --relative-to="$kustomization" "$ROOT/config/rbac")
EOF
	kubectl_ create namespace "$OPERATOR_NAMESPACE" --dry-run=client -o yaml | kubectl_ apply -f - >/dev/null
	"$KUBECTL" kustomize "$kustomization" | kubectl_ apply --server-side --force-conflicts -f - >/dev/null
	rm -rf "$kustomization"
	token=$(kubectl_ create token "$OPERATOR_SERVICE_ACCOUNT" -n "$OPERATOR_NAMESPACE" --duration 48h)
	cat >"$OPERATOR_KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ha-operator-$CLUSTER_NAME
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $OPERATOR_SERVICE_ACCOUNT
  user:
    token: $token
contexts:
- name: ha-operator-$CLUSTER_NAME
  context:
    cluster: ha-operator-$CLUSTER_NAME
    namespace: $OPERATOR_NAMESPACE
    user: $OPERATOR_SERVICE_ACCOUNT
current-context: ha-operator-$CLUSTER_NAME
EOF
	chmod 600 "$OPERATOR_KUBECONFIG"
}

cmd_operator_start() {
	local replica=1 leader_elect=false
	while (($# > 0)); do
		case $1 in
		--replica)
			replica=${2:?usage: operator-start [--replica N] [--leader-elect]}
			shift 2
			;;
		--leader-elect)
			leader_elect=true
			shift
			;;
		*) die "operator-start: unknown argument $1" ;;
		esac
	done
	local name health_port
	name=$(operator_instance "$replica")
	health_port=$((OPERATOR_HEALTH_PORT + replica - 1))
	[[ -x $MANAGER_BIN ]] || die "missing $MANAGER_BIN: go build -o $MANAGER_BIN ./cmd"
	pid_of kube-apiserver >/dev/null || die "the cluster is not running: hack/cluster/cluster.sh up"
	if pid_of "$name" >/dev/null; then
		log "$name already running"
		return
	fi
	operator_identity
	# The state dir in the command line marks the process as this cluster's (see pid_of).
	# shellcheck disable=SC2086
	KUBECONFIG=$OPERATOR_KUBECONFIG start_process "$name" "$MANAGER_BIN" \
		--kubeconfig "$OPERATOR_KUBECONFIG" \
		--leader-elect="$leader_elect" \
		--leader-election-namespace "$OPERATOR_NAMESPACE" \
		--metrics-bind-address 0 \
		--health-probe-bind-address "127.0.0.1:$health_port" \
		${OPERATOR_ARGS:-}
	wait_process "$name" 60 operator_healthy "$health_port"
	log "$name running as ServiceAccount $OPERATOR_NAMESPACE/$OPERATOR_SERVICE_ACCOUNT (pid $(pid_of "$name"), leader election $leader_elect, log $LOGS/$name.log)"
}

cmd_operator_stop() {
	local signal=TERM replica=1
	while (($# > 0)); do
		case $1 in
		--kill)
			signal=KILL
			shift
			;;
		--replica)
			replica=${2:?usage: operator-stop [--kill] [--replica N]}
			shift 2
			;;
		*) die "operator-stop: unknown argument $1" ;;
		esac
	done
	local name
	name=$(operator_instance "$replica")
	stop_process "$name" "$signal"
	log "$name stopped"
}

cmd_apiserver_stop() {
	# SIGKILL: the API server vanishes at once; its clients see refused connections until it is back.
	stop_process kube-apiserver KILL
	log "kube-apiserver is down (etcd and the other processes keep running)"
}

cmd_apiserver_start() {
	pid_of etcd >/dev/null || die "etcd is not running: hack/cluster/cluster.sh up"
	if pid_of kube-apiserver >/dev/null; then
		log "kube-apiserver is up"
		return
	fi
	local kwoks=() file
	for file in "$PIDS"/kwok-*.pid; do
		[[ -e $file ]] && pid_of "$(basename "$file" .pid)" >/dev/null && kwoks+=("$(basename "$file" .pid)")
	done
	stop_processes TERM kube-controller-manager kube-scheduler "${kwoks[@]}"
	start_apiserver
	start_controllers "${kwoks[@]}"
	log "kube-apiserver is up; the controller-manager, the scheduler and the kwoks were restarted"
}

# The controller-manager, the scheduler and the running kwoks are restarted after an outage of the
# API server. On a real control plane these run with leader election: a leader that cannot renew its
# lease exits, and its kubelet starts it again at once, with fresh watches. Here they run without
# it, and would otherwise wait out client-go's watch backoff (up to a minute) before they saw the
# cluster again. A zone that is down stays down.
#
# They are stopped while the API server is still down. A kwok that saw it back would renew its node
# leases under its own identity just before it stopped, and its successor, whose identity is new,
# would then wait for those leases to expire (NODE_LEASE_SECONDS) before renewing them: as long as
# the node lifecycle controller, started afresh, gives a node (NODE_MONITOR_GRACE). Whether the
# nodes then went NotReady, and their pods unready, was a race. A real kubelet keeps its identity.
# start_controllers NAME...: start the controller-manager, the scheduler and the kwoks named.
start_controllers() {
	local name zone
	start_controller_manager
	start_scheduler
	for name in "$@"; do
		if [[ $name == kwok-storage ]]; then
			start_storage
		else
			zone=${name#kwok-}
			start_zone "$zone"
		fi
	done
}

cmd_logs() {
	local lines=${1:-100}
	for file in "$LOGS"/*.log; do
		[[ -e $file ]] || continue
		printf '\n===== %s (last %s lines) =====\n' "$file" "$lines"
		tail -n "$lines" "$file"
	done
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
zone-down) cmd_zone_down "${@:2}" ;;
zone-up) cmd_zone_up "${2:-}" ;;
operator-start) cmd_operator_start "${@:2}" ;;
operator-stop) cmd_operator_stop "${@:2}" ;;
apiserver-stop) cmd_apiserver_stop ;;
apiserver-start) cmd_apiserver_start ;;
import-image) cmd_import_image "${2:-}" ;;
node-down) cmd_node_down "${2:-}" ;;
node-up) cmd_node_up "${2:-}" ;;
logs) cmd_logs "${2:-100}" ;;
env) echo "export KUBECONFIG=$KUBECONFIG_FILE" ;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
