#!/usr/bin/env bash
# Long fuzzing run of one loader (docs/reliability.md, "Fuzzing").
#
#   fuzz/run.sh list                         the targets
#   fuzz/run.sh <target> [minutes] [engine]  fuzz one target (default 60 minutes)
#   fuzz/run.sh replay <target> <file>...    run saved inputs (a finding) through the target
#
# engine: afl     AFL++ (Debian's afl++ package) drives the harness through SharpFuzz: coverage-guided. The library's
#                 assemblies are instrumented with the SharpFuzz.CommandLine dotnet tool in a copy of the build output.
#         inproc  the in-process mutation fuzzer (the engine of CI's short run), when AFL++ is not installed.
# Default: afl when afl-fuzz is on PATH, else inproc. Findings go to fuzz/out/<engine>/<target>/; run one target at a time
# on a shared machine (each engine keeps one core busy).
set -euo pipefail
cd "$(dirname "$0")/.."
project=fuzz/DeepRetrieval.Fuzz
out=fuzz/out
dotnet build "$project" -c Release -v quiet -nologo >/dev/null
bin="$project/bin/Release/net10.0"
run() { dotnet "$bin/DeepRetrieval.Fuzz.dll" "$@"; }

case "${1:-}" in
  ""|-h|--help) sed -n '2,13p' "$0"; exit 2 ;;
  list) run list; exit 0 ;;
  replay) shift; run replay "$@"; exit $? ;;
esac

target="$1"
minutes="${2:-60}"
engine="${3:-$(command -v afl-fuzz >/dev/null && echo afl || echo inproc)}"
seeds="$out/seeds"
run seed "$target" "$seeds" >/dev/null

if [ "$engine" = inproc ]; then
  exec nice -n 10 dotnet "$bin/DeepRetrieval.Fuzz.dll" mutate "$target" --minutes "$minutes" --seed "$(date +%s)" --findings "$out/inproc/$target"
fi

# AFL++: instrument a copy of the build output (the natives of other platforms are left out).
if ! command -v sharpfuzz >/dev/null; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$out/tools" >/dev/null
  PATH="$PWD/$out/tools:$PATH"
fi
afl_bin="$out/afl-bin"
rm -rf "$afl_bin" && mkdir -p "$afl_bin"
(cd "$bin" && tar cf - --exclude='./runtimes/win*' --exclude='./runtimes/osx*' .) | tar xf - -C "$afl_bin"
for assembly in DeepRetrieval DeepRetrieval.Torch DeepRetrieval.Imaging DeepRetrieval.OnnxRuntime; do
  sharpfuzz "$afl_bin/$assembly.dll" >/dev/null
done
findings="$out/afl/$target"
rm -rf "$findings" && mkdir -p "$out/afl"
# The harness is the dotnet host, not an AFL-compiled binary (AFL_SKIP_BIN_CHECK); a .NET start takes seconds (-t 10000).
AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
  nice -n 10 afl-fuzz -i "$seeds/$target" -o "$findings" -t 10000 -m none -V $((minutes * 60)) \
  -- dotnet "$afl_bin/DeepRetrieval.Fuzz.dll" afl "$target" >"$findings.log" 2>&1 || true
grep -E "run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs" "$findings/default/fuzzer_stats"
crashes=$(find "$findings/default/crashes" -type f ! -name README.txt | wc -l)
echo "$crashes crashing inputs in $findings/default/crashes (replay: fuzz/run.sh replay $target <file>)"
[ "$crashes" -eq 0 ]
