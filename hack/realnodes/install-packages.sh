#!/usr/bin/env bash
# install-packages.sh installs the Debian packages that the local cluster's real nodes need (a
# container runtime, its low-level runtime, the CNI plugins, iptables and conntrack) when any is
# missing. It changes nothing when all are there, so it is safe to run before every start.
set -euo pipefail

packages=(containerd runc containernetworking-plugins iptables conntrack)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if ((EUID != 0)); then
	echo "real nodes need ${missing[*]}: run this as root to install them" >&2
	exit 1
fi
echo "installing ${missing[*]}" >&2
# Other apt runs on the machine hold the dpkg lock for a while: wait for it rather than fail.
apt=(apt-get -o DPkg::Lock::Timeout=300)
"${apt[@]}" update -qq
# The packages ship services that an init system would start; here the cluster starts its own
# containerd for each node, so nothing may start at install time.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	trap 'rm -f "$policy"' EXIT
fi
DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
