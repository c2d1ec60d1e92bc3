#!/usr/bin/env bash
# End-to-end tests of the `tessera` command: usage: test_cli.sh TESSERA_BINARY CASE [RANKS]
# CASE: info | bad_input | run (RANKS ranks against 1 rank) | analysis | compare_runs
set -uo pipefail
tessera="$1"
case_name="$2"
ranks="${3:-2}"
# shellcheck source=SCRIPTDIR/cli_helpers.sh
source "$(dirname "$0")/cli_helpers.sh"
make_work_dir tessera_cli

write_experiment() {  # write_experiment FILE [extra TOML lines...]
  local file="$1"
  shift
  {
    echo '[run]'
    echo 'experiment = "lwr"'
    echo '[solver]'
    echo 'cells = 64'
    echo 't_end = 0.05'
    echo '[output]'
    echo "dir = \"$work/results\""
    echo 'field_interval = 0.01'
    printf '%s\n' "$@"
  } >"$file"
}

case "$case_name" in
  info)
    out="$("$tessera" info 2>&1)" || fail "info exited non-zero"
    for label in Kokkos "Kokkos backends" KokkosKernels "MPI library" HDF5 VTK BLAS; do
      grep -q "^$label:" <<<"$out" && pass || fail "info lacks '$label': $out"
    done
    grep -q "parallel" <<<"$out" && pass || fail "info does not say HDF5 is parallel"
    "$tessera" --version | grep -q "^tessera [0-9]" && pass || fail "--version"
    for sub in "" info run validate keys; do
      "$tessera" $sub --help >/dev/null 2>&1 && pass || fail "--help of '$sub'"
    done
    "$tessera" keys lwr | grep -q "^cfl = 0.9" && pass || fail "keys lwr lists solver.cfl"
    # Our help only (Kokkos' options under --kokkos-help); info is text (no NUL byte).
    for sub in "" run bench; do
      help="$("$tessera" $sub --help 2>&1)"
      grep -q "Kokkos command line arguments" <<<"$help" \
        && fail "'$sub --help' prints Kokkos' own help" || pass
    done
    "$tessera" --kokkos-help 2>&1 | grep -q "Kokkos command line arguments" \
      && pass || fail "--kokkos-help does not show Kokkos' options"
    "$tessera" bench --help | grep -q "nn: dense, graph" && pass || fail "bench --help lacks the parts"
    "$tessera" info | grep -q "MPI library" && pass || fail "tessera info | grep sees binary data"
    [ "$("$tessera" info | tr -d -c '\000' | wc -c)" -eq 0 ] && pass || fail "tessera info writes NUL bytes"
    # On a threaded host backend (OpenMP) BLAS runs one thread per call and gemm is split
    # over the Kokkos threads, unless the user set OPENBLAS_NUM_THREADS (their choice wins).
    threads="$(env -u OPENBLAS_NUM_THREADS -u GOTO_NUM_THREADS OMP_NUM_THREADS=2 \
                 "$tessera" --kokkos-num-threads=2 info | grep "^Threads per rank:")"
    if grep -q "Kokkos (OpenMP)" <<<"$threads"; then
      grep -q "2 Kokkos (OpenMP), 1 BLAS (gemm split over the Kokkos threads)" <<<"$threads" \
        && pass || fail "BLAS is not left to one thread per call: $threads"
      OPENBLAS_NUM_THREADS=2 "$tessera" --kokkos-num-threads=2 info | grep -q "2 Kokkos (OpenMP), 2 BLAS$" \
        && pass || fail "OPENBLAS_NUM_THREADS=2 is not kept"
    else
      echo "(the host backend is not threaded: BLAS threads stay OpenBLAS's own: $threads)"
    fi
    ;;

  bad_input)
    printf '[run]\nexperiment = "lwr"\n[solver\ncells = 10\n' >"$work/malformed.toml"
    expect_error malformed_toml "$ranks" 2 "malformed.toml:3" -- validate "$work/malformed.toml"
    write_experiment "$work/unknown.toml" 'cellz = 5'
    expect_error unknown_key 1 2 "unknown key 'output.cellz'" -- run "$work/unknown.toml"
    write_experiment "$work/ok.toml"
    expect_error negative_cells 1 2 "'solver.cells' = -10" -- \
      run "$work/ok.toml" --set solver.cells=-10
    expect_error cfl_above_one "$ranks" 2 "'solver.cfl' = 1.5 is out of range: expected a real number in (0, 1]" -- \
      run "$work/ok.toml" --set solver.cfl=1.5
    expect_error wrong_type 1 2 "expected an integer" -- \
      run "$work/ok.toml" --set solver.cells=\"many\"
    expect_error unknown_experiment 1 2 "is not a known experiment" -- \
      run "$work/ok.toml" --set run.experiment=nope
    expect_error ranks_above_cells 4 2 "solver.cells" -- run "$work/ok.toml" --set solver.cells=3
    expect_error missing_file 1 2 "does-not-exist.toml" -- run "$work/does-not-exist.toml"
    expect_error output_not_writable "$ranks" 2 "/dev/null/run" -- \
      run "$work/ok.toml" --out /dev/null/run
    expect_error detector_outside 1 2 "detectors.positions" -- \
      run "$work/ok.toml" --set "detectors.positions=[0.5, 1.5]"
    printf '0.1 0.2 0.3\n0.1 0.2\n' >"$work/ragged.txt"
    write_experiment "$work/ragged.toml" '[initial]' 'kind = "data"' "file = \"$work/ragged.txt\""
    expect_error ragged_data "$ranks" 2 "ragged.txt" -- run "$work/ragged.toml"
    printf '0.1 0.2\n0.1 abc\n' >"$work/text.txt"
    write_experiment "$work/text.toml" '[initial]' 'kind = "data"' "file = \"$work/text.txt\""
    expect_error non_numeric_data 1 2 "'abc' is not a number" -- run "$work/text.toml"
    printf '0.1 0.2\n-0.1 0.3\n' >"$work/negative.txt"
    write_experiment "$work/negative.toml" '[initial]' 'kind = "data"' "file = \"$work/negative.txt\""
    expect_error negative_density 1 2 "row 2, column 1" -- run "$work/negative.toml"
    # No failed run may leave anything behind that looks like a result.
    if [ -d "$work/results" ] && [ -n "$(find "$work/results" -name 'run.h5*')" ]; then
      fail "a rejected configuration left files: $(find "$work/results")"
    else
      pass
    fi
    # An earlier run in --out is not overwritten.
    mkdir -p "$work/kept" && echo "old" >"$work/kept/run.h5"
    expect_error kept_run 1 2 "already holds a run" -- run "$work/ok.toml" --out "$work/kept"
    grep -q old "$work/kept/run.h5" && pass || fail "an earlier run.h5 was overwritten"
    # A tetrahedral mesh partitions like a triangle mesh (/mesh/cells: 4 points per cell).
    cat >"$work/tet.vtu" <<'EOF'
<?xml version="1.0"?>
<VTKFile type="UnstructuredGrid" version="0.1" byte_order="LittleEndian">
  <UnstructuredGrid>
    <Piece NumberOfPoints="5" NumberOfCells="2">
      <Points>
        <DataArray type="Float64" NumberOfComponents="3" format="ascii">0 0 0 1 0 0 0 1 0 0 0 1 1 1 1</DataArray>
      </Points>
      <Cells>
        <DataArray type="Int64" Name="connectivity" format="ascii">0 1 2 3 1 2 3 4</DataArray>
        <DataArray type="Int64" Name="offsets" format="ascii">4 8</DataArray>
        <DataArray type="UInt8" Name="types" format="ascii">10 10</DataArray>
      </Cells>
    </Piece>
  </UnstructuredGrid>
</VTKFile>
EOF
    mpirun -np "$ranks" "$tessera" run "$source_dir/experiments/mesh_partition.toml" --out "$work/tet" \
      --set mesh.source=file --set mesh.file="$work/tet.vtu" >"$work/tet.log" 2>&1 \
      && pass || fail "mesh_partition of a tetrahedral mesh failed: $(cat "$work/tet.log")"
    h5dump -H -d /mesh/cells "$work/tet/run.h5" 2>/dev/null | grep -q "( 2, 4 )" && pass \
      || fail "run.h5 /mesh/cells is not 2 x 4: $(h5dump -H -d /mesh/cells "$work/tet/run.h5" 2>&1)"
    # An error every rank meets inside the run (a mesh file naming a point it lacks, read on
    # rank 0): one message, exit code 2, no MPI_Abort (no runtime noise after it).
    sed 's/0 1 2 3 1 2 3 4/0 1 2 3 1 2 3 9/' "$work/tet.vtu" >"$work/bad_tet.vtu"
    expect_error bad_tetrahedral_mesh "$ranks" 2 "cell 1 refers to point 9; the file has 5 points" -- \
      run "$source_dir/experiments/mesh_partition.toml" --out "$work/bad_tet" \
      --set mesh.source=file --set mesh.file="$work/bad_tet.vtu"
    # A full disk: a 300 KiB tmpfs (where this user may mount one) fills while the run
    # writes; one line saying so, exit code 2, only the .partial file left.
    mkdir -p "$work/small"
    if mount -t tmpfs -o size=300k tmpfs "$work/small" 2>/dev/null; then
      expect_error full_disk 1 2 "no space left on its file system" -- \
        run "$work/ok.toml" --out "$work/small/run" --set solver.cells=20000
      [ -e "$work/small/run/run.h5" ] && fail "a run on a full disk left run.h5" || pass
      umount "$work/small"
    else
      echo "full-disk case skipped: cannot mount a tmpfs here (needs root)"
    fi
    # The output folder is a file.
    touch "$work/a_file"
    expect_error out_is_file 1 2 "cannot create the output directory $work/a_file: Not a directory" -- \
      run "$work/ok.toml" --out "$work/a_file"
    # --set values and keys are checked like the file's.
    expect_error set_malformed 1 2 "--set solver.cells:1: 'abc' is not a valid value" -- \
      run "$work/ok.toml" --set solver.cells=abc
    expect_error set_unknown_key 1 2 "unknown key 'solver.cellz'; did you mean 'solver.cells'?" -- \
      run "$work/ok.toml" --set solver.cellz=3
    # A string escape that is no character.
    write_experiment "$work/escape.toml" 'name = "bad \uD800 escape"'
    expect_error toml_escape 1 2 "escape.toml:9: escape for code point 55296 is not a Unicode scalar value" -- \
      validate "$work/escape.toml"
    # NaN in a data file: refused by the reader with its line and column.
    printf '0.1 0.2\n0.1 nan\n' >"$work/nan.txt"
    write_experiment "$work/nan.toml" '[initial]' 'kind = "data"' "file = \"$work/nan.txt\""
    expect_error nan_in_data "$ranks" 2 "nan.txt:line 2, column 2" -- run "$work/nan.toml"
    # Meshes read from files (mesh_partition, mesh.source = "file"): two triangles, with
    # the connectivity and the velocity field given.
    two_triangles() {  # two_triangles FILE CONNECTIVITY VELOCITY
      cat >"$1" <<EOF
<?xml version="1.0"?>
<VTKFile type="UnstructuredGrid" version="0.1" byte_order="LittleEndian">
<UnstructuredGrid><Piece NumberOfPoints="4" NumberOfCells="2">
<Points><DataArray type="Float64" NumberOfComponents="3" format="ascii">0 0 0 1 0 0 1 1 0 0 1 0</DataArray></Points>
<Cells><DataArray type="Int64" Name="connectivity" format="ascii">$2</DataArray>
<DataArray type="Int64" Name="offsets" format="ascii">3 6</DataArray>
<DataArray type="UInt8" Name="types" format="ascii">5 5</DataArray></Cells>
<PointData><DataArray type="Float64" Name="velocity" NumberOfComponents="2" format="ascii">$3</DataArray></PointData>
</Piece></UnstructuredGrid></VTKFile>
EOF
    }
    mesh_case() {  # mesh_case NAME RANKS MESH_FILE "expected text"
      expect_error "$1" "$2" 2 "$4" -- run "$source_dir/experiments/mesh_partition.toml" \
        --out "$work/$1" --set mesh.source=file --set mesh.file="$3"
    }
    two_triangles "$work/nan_field.vtu" "0 1 2 0 2 3" "1 0 1 0 nan 0 1 0"
    mesh_case mesh_nan_field "$ranks" "$work/nan_field.vtu" \
      "field 'velocity' at step 0 (time 0) is nan at point 2; fields must be finite"
    two_triangles "$work/past_points.vtu" "0 1 2 0 2 7" "1 0 1 0 1 0 1 0"
    mesh_case mesh_point_past_the_end 1 "$work/past_points.vtu" \
      "cell 1 refers to point 7; the file has 4 points"
    mesh_case mesh_missing 1 "$work/absent.vtu" "key 'mesh.file' = \"$work/absent.vtu\": data file $work/absent.vtu does not exist"
    two_triangles "$work/piece_0.vtu" "0 1 2 0 2 3" "1 0 1 0 1 0 1 0"
    cat >"$work/summary.pvtu" <<'EOF'
<?xml version="1.0"?>
<VTKFile type="PUnstructuredGrid" version="0.1" byte_order="LittleEndian">
<PUnstructuredGrid GhostLevel="0"><PPoints><PDataArray type="Float64" NumberOfComponents="3"/></PPoints>
<PPointData><PDataArray type="Float64" Name="velocity" NumberOfComponents="3"/></PPointData>
<Piece Source="piece_0.vtu"/></PUnstructuredGrid></VTKFile>
EOF
    mesh_case pvtu_disagrees_with_piece "$ranks" "$work/summary.pvtu" \
      "point array 'velocity' is Float64 x 2; $work/summary.pvtu declares Float64 x 3"
    ;;

  run)
    write_experiment "$work/exp.toml" '[detectors]' 'positions = [0.1, 0.5, 0.93]' \
      'interval = 0.005' '[initial]' 'kind = "platoons"'
    sed -i 's/^cells = 64/cells = 101/' "$work/exp.toml"
    mpirun -np 1 "$tessera" run "$work/exp.toml" --out "$work/one" >/dev/null 2>&1 \
      && pass || fail "1-rank run failed"
    mpirun -np "$ranks" "$tessera" run "$work/exp.toml" --out "$work/many" >/dev/null 2>&1 \
      && pass || fail "$ranks-rank run failed"
    for d in one many; do
      [ -f "$work/$d/run.h5" ] && [ ! -e "$work/$d/run.h5.partial" ] && pass \
        || fail "$d: run.h5 missing or .partial left"
      [ -f "$work/$d/density.pvd" ] && [ -f "$work/$d/log.txt" ] && pass \
        || fail "$d: density.pvd or log.txt missing"
    done
    pieces="$(grep -c "<Piece" "$work/many/density_000001.pvtu")"
    [ "$pieces" -eq "$ranks" ] && pass || fail "pvtu has $pieces pieces, expected $ranks"
    for object in /fields/density /fields/time /fields/x /detectors/density /detectors/flow; do
      h5diff "$work/one/run.h5" "$work/many/run.h5" "$object" >/dev/null \
        && pass || fail "$object differs between 1 and $ranks ranks"
    done
    ;;

  analysis)
    if ! /usr/bin/python3 -c "import h5py, matplotlib" 2>/dev/null; then
      echo "TESSERA_SKIP: /usr/bin/python3 lacks h5py or matplotlib"
      exit 0
    fi
    write_experiment "$work/exp.toml" '[detectors]' 'positions = [0.2, 0.8]' \
      '[initial]' 'kind = "riemann"'
    sed -i 's/^cells = 64/cells = 64\nboundary = "open"\nupstream_density = 0.2\ndownstream_density = 0.8/' \
      "$work/exp.toml"
    "$tessera" run "$work/exp.toml" --out "$work/run" >/dev/null 2>&1 || fail "run failed"
    /usr/bin/python3 "$source_dir/analysis/plot_lwr.py" "$work/run" >"$work/plot.log" 2>&1 \
      || fail "plot_lwr.py failed: $(cat "$work/plot.log")"
    for png in spacetime detectors riemann_error; do
      [ -s "$work/run/$png.png" ] && pass || fail "$png.png not written"
    done
    ;;
  compare_runs)
    # analysis/compare_runs.py: the same run twice is bitwise equal, another one is not.
    if ! /usr/bin/python3 -c "import h5py" 2>/dev/null; then
      echo "TESSERA_SKIP: /usr/bin/python3 lacks h5py"
      exit 0
    fi
    write_experiment "$work/exp.toml" '[initial]' 'kind = "platoons"'
    for out in a b; do
      "$tessera" run "$work/exp.toml" --out "$work/$out" >/dev/null 2>&1 || fail "run $out failed"
    done
    "$tessera" run "$work/exp.toml" --out "$work/c" --set run.seed=2 >/dev/null 2>&1 || fail "run c failed"
    /usr/bin/python3 "$source_dir/analysis/compare_runs.py" "$work/a" "$work/b" >"$work/ab.log" \
      && grep -q "bitwise equal" "$work/ab.log" && pass || fail "equal runs differ: $(cat "$work/ab.log")"
    /usr/bin/python3 "$source_dir/analysis/compare_runs.py" "$work/a" "$work/c" >"$work/ac.log"
    [ $? -eq 1 ] && grep -q "/fields/density: values differ" "$work/ac.log" && pass \
      || fail "runs with other seeds compare equal: $(cat "$work/ac.log")"
    ;;
  mesh_partition)
    # A small Gmsh channel partitioned over the ranks, written to VTK and read back.
    checker="${4:?mesh_partition needs the checker binary}"
    cat >"$work/partition.toml" <<TOML
[run]
experiment = "mesh_partition"
[mesh]
size = 0.04
cylinder_size = 0.015
[partition]
halo_hops = 2
TOML
    mpirun -np "$ranks" "$tessera" run "$work/partition.toml" --out "$work/run" >"$work/log" 2>&1 \
      && pass || fail "mesh_partition run on $ranks ranks failed: $(cat "$work/log")"
    "$checker" "$work/run" && pass || fail "partitioned output differs from the mesh"
    # The old spellings of mesh_partition files still work, with one warning each.
    sed -e 's/^size/mesh_size/' -e 's/^cylinder_size/cylinder_mesh_size/' "$work/partition.toml" \
      >"$work/old.toml"
    mpirun -np "$ranks" "$tessera" validate "$work/old.toml" >"$work/old.log" 2>&1 \
      && pass || fail "the old spellings are refused: $(cat "$work/old.log")"
    [ "$(grep -c "'mesh.mesh_size' is deprecated: use 'mesh.size'" "$work/old.log")" = 1 ] \
      && pass || fail "expected one deprecation warning for mesh.mesh_size: $(cat "$work/old.log")"
    ;;
  *)
    echo "unknown case $case_name"
    exit 2
    ;;
esac

finish_checks
