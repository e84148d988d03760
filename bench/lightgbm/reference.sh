#!/usr/bin/env bash
# LightGBM's single-threaded predict next to augur's, in one run: builds
# LightGBM's C library from a source checkout (CMake's sources and flags:
# -O3, OpenMP, no -march), times reference.c on the three models of
# BenchmarkPredictDense1M, then augur's benchmark, then LightGBM again.
# Needs g++ and Debian's libeigen3-dev; the checkout needs its fmt and
# fast_double_parser submodules (git clone --recursive
# https://github.com/microsoft/LightGBM).
#
#   [ROUNDS=N] bash bench/lightgbm/reference.sh LIGHTGBM_SOURCE_DIR
#
# ROUNDS (default 1) repeats augur and LightGBM after the first LightGBM
# run, alternating.
set -euo pipefail
src=$(cd "${1:?usage: reference.sh LIGHTGBM_SOURCE_DIR}" && pwd)
cd "$(dirname "$0")/../.."
out=.cache/bench/lightgbm
mkdir -p "$out/obj"
flags=(-O3 -pthread -fopenmp -std=c++17 -fPIC -DUSE_SOCKET -DEIGEN_MPL2_ONLY -DEIGEN_DONT_PARALLELIZE
	-DMM_PREFETCH -DMM_MALLOC -I"$src/include" -I"$src/external_libs/fmt/include"
	-I"$src/external_libs/fast_double_parser/include" -I/usr/include/eigen3 -w)
if [ ! -f "$out/lib_lightgbm.so" ]; then
	objs=()
	for f in "$src"/src/c_api.cpp "$src"/src/{boosting,io,metric,network,objective,treelearner,utils}/*.cpp; do
		o="$out/obj/$(echo "${f#"$src"/src/}" | tr / _).o"
		objs+=("$o")
		[ -f "$o" ] || echo "g++ -c $f" >&2
		[ -f "$o" ] || g++ "${flags[@]}" -c "$f" -o "$o" &
		while [ "$(jobs -r | wc -l)" -ge "$(nproc)" ]; do sleep 0.2; done
	done
	wait
	g++ -shared -fopenmp -o "$out/lib_lightgbm.so" "${objs[@]}"
fi
gcc -O2 -I"$src/include" bench/lightgbm/reference.c -o "$out/reference" -L"$out" -l_lightgbm -Wl,-rpath,"$PWD/$out"
go test -c -o "$out/lightgbm.test" ./flavor/lightgbm
td=testdata/lightgbm
lightgbm() {
	"$out/reference" $td/lg_kddcup99.model $td/kddcup99_test.tsv 0
	"$out/reference" $td/lgmulticlass.model $td/multiclass_test.tsv 1
	"$out/reference" $td/genlin_fmtp_poisson_Frequency.model $td/genlin_fmtp_poisson_Frequency_features.tsv 0
}
echo "== LightGBM $(cat "$src/VERSION.txt"), one thread"
lightgbm
for round in $(seq "${ROUNDS:-1}"); do
	echo "== augur, one goroutine (round $round)"
	(cd flavor/lightgbm && "../../$out/lightgbm.test" -test.run '^$' -test.bench 'PredictDense1M/.*/fast' -test.benchtime 2x)
	echo "== LightGBM again"
	lightgbm
done
