# Sourced by the distributed benchmarks: `mpirun` (an array) on loopback, oversubscribed so that
# more ranks than cores start, as root where needed; `work`, a scratch folder removed on exit.
mpirun=(mpirun --oversubscribe --bind-to none --mca btl self,vader,tcp --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo)
[ "$(id -u)" -ne 0 ] || mpirun+=(--allow-run-as-root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
