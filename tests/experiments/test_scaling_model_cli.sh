#!/usr/bin/env bash
# `tessera bench scaling_model --quick` end to end on RANKS ranks: bench.h5 holds the
# rows of every part and they are sane (ping-pong only from 2 ranks, positive times and
# bandwidths, ghosts that grow with the part count, one part without ghosts).
# Usage: test_scaling_model_cli.sh TESSERA_BINARY RANKS
set -uo pipefail
tessera="$1"
ranks="${2:-1}"
# shellcheck source=SCRIPTDIR/cli_helpers.sh
source "$(dirname "$0")/cli_helpers.sh"
make_work_dir tessera_scaling_model_cli

if [ "$ranks" -eq 1 ]; then
  "$tessera" bench scaling_model --quick --out "$work/bench" >"$work/bench.log" 2>&1
else
  mpirun -np "$ranks" "$tessera" bench scaling_model --quick --out "$work/bench" \
    >"$work/bench.log" 2>&1
fi
status=$?
[ "$status" -eq 0 ] && pass || fail "tessera bench scaling_model --quick on $ranks rank(s) failed: $(cat "$work/bench.log")"
if [ "$ranks" -eq 1 ]; then
  grep -q "pingpong: needs 2 ranks" "$work/bench.log" && pass || fail "no note that pingpong needs 2 ranks"
fi
"$tessera" bench --help | grep -q "scaling_model: pingpong, allreduce, flow_partition, mesh_partition" \
  && pass || fail "bench --help lacks the scaling_model parts"

if ! /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  echo "TESSERA_SKIP: /usr/bin/python3 lacks h5py"
  finish_checks
fi
/usr/bin/python3 - "$work/bench/bench.h5" "$ranks" <<'PY' && pass || fail "bench.h5 rows are not sane"
import sys
import h5py

f = h5py.File(sys.argv[1], "r")
ranks = int(sys.argv[2])
rows = {}
for benchmark in f["bench"]:
    group = f["bench"][benchmark]
    rows[benchmark] = [dict(group[i].attrs, seconds=group[i][0])
                       for i in sorted(group, key=int)]

errors = []
def check(condition, message):
    if not condition:
        errors.append(message)

# Ping-pong: 3 sizes from 2 ranks, none on 1.
pingpong = rows.get("pingpong", [])
check(len(pingpong) == (3 if ranks >= 2 else 0), f"{len(pingpong)} pingpong rows on {ranks} ranks")
for r in pingpong:
    check(r["one_way_seconds"] > 0 and r["bandwidth_bytes_per_second"] > 0, f"pingpong {r}")
    check(abs(r["bandwidth_bytes_per_second"] * r["one_way_seconds"] - r["bytes"]) < 1e-6 * r["bytes"],
          "bandwidth != bytes / one-way time")
check([r["bytes"] for r in pingpong] == sorted(r["bytes"] for r in pingpong), "sizes not ascending")

# All-reduce of 1 and 2 doubles over every rank.
allreduce = rows.get("allreduce", [])
check(sorted(r["doubles"] for r in allreduce) == [1, 2], "allreduce rows for 1 and 2 doubles")
for r in allreduce:
    check(r["ranks"] == ranks and 0 < r["seconds"] < 0.1, f"allreduce {r}")

# Partitions: P = 1, 2, 4, 8; no ghosts on one part; total ghosts grow with P; owned
# nodes add up to the mesh; a part has at most P - 1 neighbours.
for name, size_key in [("flow_partition", "p2_nodes"), ("mesh_partition", "nodes")]:
    table = rows.get(name, [])
    groups = {}
    for r in table:
        groups.setdefault(r.get("hops", 1), []).append(r)
    check(len(groups) == (2 if name == "mesh_partition" else 1), f"{name}: hops {list(groups)}")
    for hops, group in groups.items():
        check([r["parts"] for r in group] == [1, 2, 4, 8], f"{name}: parts {[r['parts'] for r in group]}")
        totals = [r["mean_ghosts"] * r["parts"] for r in group]
        check(totals[0] == 0 and group[0]["max_neighbours"] == 0, f"{name}: ghosts on one part")
        check(all(b > a for a, b in zip(totals, totals[1:])), f"{name} hops={hops}: total ghosts {totals}")
        for r in group:
            check(abs(r["mean_owned"] * r["parts"] - r[size_key]) < 1e-6, f"{name}: owned sum {r}")
            check(r["max_owned"] >= r["mean_owned"] and r["max_ghosts"] >= r["mean_ghosts"], f"{name}: max < mean")
            check(r["max_neighbours"] <= r["parts"] - 1, f"{name}: neighbours {r}")
            check(r["seconds"] >= 0, f"{name}: time {r}")
    if name == "mesh_partition":  # two hops reach further than one
        for one, two in zip(groups[1], groups[2]):
            check(two["mean_ghosts"] >= one["mean_ghosts"], "2-hop halo smaller than 1-hop")
flow = rows.get("flow_partition", [])
for r in flow:  # the P2 halo holds the vertex halo's nodes and midpoints
    check(r["max_ghosts"] >= r["pressure_max_ghosts"], f"P2 halo smaller than P1 {r}")
    check(abs(r["pressure_mean_owned"] * r["parts"] - r["vertices"]) < 1e-6, f"vertices {r}")

for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
finish_checks
