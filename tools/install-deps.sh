#!/usr/bin/env bash
# Installs what rlhash needs from Debian's packages (as root), only when something is missing.
set -euo pipefail
packages=(build-essential cmake libeigen3-dev libxsimd-dev catch2 libbenchmark-dev libcli11-dev zlib1g-dev
          dataset-fashion-mnist)
packages+=(openmpi-bin libopenmpi-dev)  # the optional MPI component (rlhash::mpi) and its tests
packages+=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
