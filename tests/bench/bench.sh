#!/usr/bin/env bash
# tests/bench/bench.sh - ingest and pipeline benchmark. A measuring program,
# not a test: neither `make check` nor tests/run runs it, nor does CI.
#
# Installs what it needs when missing, with apt-get (`apt-get update` first
# only when a package is not found; sudo when not root): sqlite3 (the
# .import baseline), sqlite-utils, python3-pandas (for Debian's
# /usr/bin/python3, not a pyenv one), time (GNU /usr/bin/time: wall time,
# peak RSS, CPU time), jq (reads `concord run`'s JSON), and for section 6
# wrk, nginx, curl, gcc and libfcgi-dev (the trivial responder).
#
# Measures, in one run, on the same files, with one copy of the binary:
#   1. ingest of a 1,026,766-row CSV (17 copies of crm-erp sales_details.csv)
#      by sqlite3 .import, sqlite-utils insert --csv, pandas read_csv +
#      to_sql, concord upload and concord profile: median of 3 runs each;
#      plus sqlite-utils --detect-types, 1 run (it alone takes ~75 s)
#   2. concord upload + run on all CRM/ERP seed files, then run --restage
#      on the same workspace: median of 3 runs
#   3. concord upload + run on the 1M-row file plus the five master files
#      so the sales lines resolve: 1 run
#   4. concord upload's peak RSS for 1x, 4x and 17x copies of sales_details
#   5. ingest to queryable: concord upload + concord run --phase stage of
#      the 1M-row file against .import: median of 3 runs
#   6. the read side behind nginx (tests/bench/http_bench.sh, on the
#      workspaces of 2 and 3): wrk against health, every dashboard with
#      and without filters and table pages next to a trivial libfcgi
#      responder (tests/bench/fcgi_trivial.c, built here) behind the same
#      nginx, one request alone, abandoned requests, a CSV export
# and prints a Markdown report on stdout (progress on stderr). About 12-15
# minutes on 2 cores; needs ~1 GB in $TMPDIR (removed at exit).
#
# usage: tests/bench/bench.sh [--out FILE]
# env:   CONCORD_SHARED (default <repo>/../shared), CONCORD (default
#        <repo>/concord; build it with `make` first), TMPDIR
set -u

usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; }

out_file=
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || { echo "bench.sh: --out needs a file" >&2; exit 2; }
		out_file=$2; shift 2 ;;
	--out=*) out_file=${1#--out=}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
done

repo=$(cd "$(dirname "$0")/../.." && pwd)
shared=${CONCORD_SHARED:-$repo/../shared}
concord=${CONCORD:-$repo/concord}
seeds=$shared/data/seeds/crm-erp
sales=$seeds/source_crm/sales_details.csv
masters="$seeds/source_crm/cst_info.csv $seeds/source_crm/prd_info.csv
$seeds/source_erp/CST_AZ12.csv $seeds/source_erp/LOC_A101.csv
$seeds/source_erp/PX_CAT_G1V2.csv"
PY=/usr/bin/python3
RUNS=3
COPIES_BIG=17

log() { printf '%s\n' "bench: $*" >&2; }
die() { log "$*"; exit 1; }

[ -x "$concord" ] || die "no concord binary at $concord (run make in $repo)"
[ -f "$sales" ] || die "no $sales (set CONCORD_SHARED)"
for f in $masters; do [ -f "$f" ] || die "no $f"; done

# --- dependencies -----------------------------------------------------------
have() {
	case $1 in
	sqlite3) command -v sqlite3 >/dev/null ;;
	sqlite-utils) command -v sqlite-utils >/dev/null ;;
	python3-pandas) "$PY" -c 'import pandas' 2>/dev/null ;;
	time) [ -x /usr/bin/time ] && /usr/bin/time -f '%M' true >/dev/null 2>&1 ;;
	jq) command -v jq >/dev/null ;;
	wrk) command -v wrk >/dev/null ;;
	nginx) command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ;;
	curl) command -v curl >/dev/null ;;
	gcc) command -v gcc >/dev/null ;;
	libfcgi-dev) [ -f /usr/include/fcgiapp.h ] ;;
	esac
}
missing=
for p in sqlite3 sqlite-utils python3-pandas time jq wrk nginx curl gcc libfcgi-dev; do
	have "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	if ! $sudo apt-get install -y -q $missing >&2; then
		$sudo apt-get update -q >&2
		# shellcheck disable=SC2086
		$sudo apt-get install -y -q $missing >&2 || die "apt-get install$missing failed"
	fi
	for p in $missing; do have "$p" || die "$p still missing after apt-get"; done
fi

# --- helpers ----------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/concord-bench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# measure OUT ERR CMD...: runs CMD under GNU time; sets M_SECS (wall),
# M_KIB (peak RSS), M_CPU (user + system seconds); returns CMD's status.
measure() {
	local o=$1 e=$2 rc=0
	shift 2
	/usr/bin/time -o "$tmp/time" -f '%e %M %U %S' "$@" >"$o" 2>"$e" || rc=$?
	local u sy
	read -r M_SECS M_KIB u sy < <(tail -n 1 "$tmp/time")
	M_CPU=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')
	return $rc
}

# median V...: the middle value (lower middle for an even count).
median() {
	[ $# -gt 0 ] || { echo ""; return; }
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ms2s() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }
thousands() { printf '%d' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
export LC_NUMERIC=C

# fresh_dir DIR: a new concord data dir with user "bench" (not timed).
fresh_dir() {
	rm -rf "$1"
	"$concord" -d "$1" init >/dev/null 2>"$tmp/init.err" ||
		die "concord init failed: $(cat "$tmp/init.err")"
	printf 'pw12345678\n' | "$concord" -d "$1" user add bench --role admin \
		>/dev/null 2>"$tmp/init.err" || die "concord user add failed: $(cat "$tmp/init.err")"
}

# build_copies N FILE: header + N copies of sales_details.csv's data rows.
build_copies() {
	{ head -n 1 "$sales"; for _ in $(seq "$1"); do tail -n +2 "$sales"; done; } >"$2"
}
data_rows() { echo $(( $(wc -l <"$1") - 1 )); }
size_mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }

report=$tmp/report.md
emit() { printf '%s\n' "$*" >>"$report"; }
notes=()

# One binary for the whole report, even if make rebuilds it meanwhile.
cp "$concord" "$tmp/concord" || die "cannot copy $concord"
concord_src=$concord
concord=$tmp/concord
commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)

# --- input ------------------------------------------------------------------
big=$tmp/sales_1m.csv
build_copies "$COPIES_BIG" "$big"
big_rows=$(data_rows "$big")
[ "$big_rows" -ge 1000000 ] || die "only $big_rows rows in $big"
log "built $big: $big_rows rows, $(size_mb "$big") MB"

cpu=$(grep -m 1 -E '^(model name|Model|cpu model)' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
mem_gib=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
pandas_v=$("$PY" -c 'import pandas; print(pandas.__version__)' 2>/dev/null)
emit "## Benchmarks: ingest and pipeline"
emit ""
emit "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
emit "- machine: nproc $(nproc), CPU ${cpu:-unknown}, RAM ${mem_gib:-?} GiB, $(uname -sr)"
emit "- concord: $("$concord" -V 2>&1 | head -n 1), tree $commit, binary built $(date -u -r "$concord_src" '+%Y-%m-%d %H:%M UTC')"
emit "- tools: sqlite3 $(sqlite3 --version | cut -d' ' -f1); sqlite-utils $(sqlite-utils --version | sed 's/.* //'); pandas $pandas_v ($PY $("$PY" -c 'import platform; print(platform.python_version())'))"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
emit "- input: sales_details.csv × $COPIES_BIG = $(thousands "$big_rows") data rows, $(size_mb "$big") MB"
emit "- wall time, peak RSS and CPU time from \`/usr/bin/time -f '%e %M %U %S'\`; medians are taken per column"
emit ""

# --- 1. ingest --------------------------------------------------------------
declare -A T_SECS T_KIB T_CPU T_RUNS T_FAIL
# run_tool NAME I: one run of tool NAME on $big; sets M_SECS, M_KIB.
run_tool() {
	local name=$1 i=$2 db=$tmp/new.db dd=$tmp/dd
	rm -f "$db"
	case $name in
	import)
		measure "$tmp/o" "$tmp/e" sqlite3 -batch -cmd '.mode csv' "$db" ".import \"$big\" t" ;;
	sqlite-utils)
		measure "$tmp/o" "$tmp/e" sqlite-utils insert "$db" t "$big" --csv ;;
	sqlite-utils-detect)
		measure "$tmp/o" "$tmp/e" sqlite-utils insert "$db" t "$big" --csv --detect-types ;;
	pandas)
		measure "$tmp/o" "$tmp/e" "$PY" -c "import pandas as pd, sqlite3, sys
df = pd.read_csv(sys.argv[1])
df.to_sql('t', sqlite3.connect(sys.argv[2]), index=False)" "$big" "$db" ;;
	upload)
		fresh_dir "$dd"
		measure "$tmp/o" "$tmp/e" "$concord" -d "$dd" upload --user bench "$big" ;;
	profile)
		measure "$tmp/o" "$tmp/e" "$concord" profile "$big" ;;
	esac
	local rc=$?
	# sanity: the rows must all be there
	if [ $rc -eq 0 ]; then
		case $name in
		import|sqlite-utils*|pandas)
			local n
			n=$(sqlite3 "$db" 'SELECT count(*) FROM t' 2>&1)
			[ "$n" = "$big_rows" ] || { echo "table t has $n rows, want $big_rows" >"$tmp/e"; rc=99; } ;;
		upload)
			grep -q "rows $big_rows\$" "$tmp/o" || { cat "$tmp/o" >>"$tmp/e"; rc=98; } ;;
		esac
	fi
	rm -rf "$db" "$dd"
	return $rc
}
# ingest_tool NAME RUNS: medians of RUNS runs into T_SECS, T_KIB.
ingest_tool() {
	local name=$1 runs=$2 i secs=() kib=() cpu=()
	for i in $(seq "$runs"); do
		if run_tool "$name" "$i"; then
			log "ingest: $name, run $i/$runs: $M_SECS s, CPU $M_CPU s, $(mib "$M_KIB") MiB"
			secs+=("$M_SECS"); kib+=("$M_KIB"); cpu+=("$M_CPU")
		else
			T_FAIL[$name]="exit $? ($(tail -n 3 "$tmp/e" | tr '\n' ' ' | cut -c1-200))"
			notes+=("$name failed: ${T_FAIL[$name]}")
			log "$name failed: ${T_FAIL[$name]}"
			return
		fi
	done
	T_SECS[$name]=$(median "${secs[@]}")
	T_KIB[$name]=$(median "${kib[@]}")
	T_CPU[$name]=$(median "${cpu[@]}")
	T_RUNS[$name]=$runs
}
for t in import sqlite-utils pandas upload profile; do ingest_tool "$t" "$RUNS"; done
ingest_tool sqlite-utils-detect 1

# shellcheck disable=SC2016  # backquotes are Markdown code spans
declare -A LABEL=(
	[import]='sqlite3 `.mode csv` + `.import` (baseline)'
	[sqlite-utils]='sqlite-utils `insert --csv` (default: all TEXT)'
	[sqlite-utils-detect]='sqlite-utils `insert --csv --detect-types`'
	[pandas]='pandas `read_csv` + `to_sql`'
	[upload]='**concord upload** (stream, hash, validate, profile, store)'
	[profile]='concord profile (read + validate + profile only)'
)
emit "### 1. Ingest of one $(thousands "$big_rows")-row CSV ($(size_mb "$big") MB)"
emit ""
emit "| tool | runs | seconds (median) | × \`.import\` | CPU s (user+sys) | peak RSS MiB |"
emit "|---|---:|---:|---:|---:|---:|"
base=${T_SECS[import]:-}
for t in import sqlite-utils sqlite-utils-detect pandas upload profile; do
	if [ -n "${T_FAIL[$t]:-}" ]; then
		emit "| ${LABEL[$t]} | – | failed: ${T_FAIL[$t]//|/\\|} | – | – | – |"
	else
		emit "| ${LABEL[$t]} | ${T_RUNS[$t]} | ${T_SECS[$t]} | $(ratio "${T_SECS[$t]}" "${base:-0}") | ${T_CPU[$t]} | $(mib "${T_KIB[$t]}") |"
	fi
done
emit ""
emit "Each tool reads the same file from the page cache and writes into a new"
emit "file in the same temp dir; concord upload writes into a fresh data dir"
emit "(init and user add are not timed). sqlite-utils 3.x stores CSV columns as"
emit "TEXT unless \`--detect-types\` is given, so its default row is the"
emit "like-for-like one with \`.import\`; the \`--detect-types\` row is one run."
emit ""

# --- 2./3. pipeline -----------------------------------------------------------
PHASES="stage reconcile load aggregate quality total"
# pipeline_once DIR FILES...: upload + run into a fresh DIR; sets P_UP_S
# P_UP_K P_RUN_S P_RUN_K and P_<phase> (ms), P_FACTS, P_ROWS; returns 1 on failure.
pipeline_once() {
	local dd=$1
	shift
	fresh_dir "$dd"
	if ! measure "$tmp/o" "$tmp/e" "$concord" -d "$dd" upload --user bench "$@"; then
		P_ERR="upload: $(tail -n 5 "$tmp/e")"
		return 1
	fi
	P_UP_S=$M_SECS P_UP_K=$M_KIB
	local rc=0
	measure "$tmp/run.json" "$tmp/run.err" "$concord" -d "$dd" run --user bench || rc=$?
	P_RUN_S=$M_SECS P_RUN_K=$M_KIB P_RUN_C=$M_CPU
	local state
	state=$(jq -r '.state // empty' "$tmp/run.json" 2>/dev/null)
	if [ $rc -ne 0 ] || [ "$state" != "done" ]; then
		P_ERR="run: exit $rc, state ${state:-?}, error $(jq -c '.error' "$tmp/run.json" 2>/dev/null); stderr: $(tail -n 5 "$tmp/run.err")"
		cp "$tmp/run.json" "$tmp/failed-run.json" 2>/dev/null
		return 1
	fi
	local p
	for p in $PHASES; do
		printf -v "P_$p" '%s' "$(jq -r ".timings_ms.$p // 0" "$tmp/run.json")"
	done
	P_FACTS=$(jq -r '.counts.facts // 0' "$tmp/run.json")
	P_ROWS=$(jq -r '.counts.source_rows // 0' "$tmp/run.json")
	P_QUAR=$(jq -r '.counts.quarantined // 0' "$tmp/run.json")
	# A second run on the same workspace, parsing every file again: what
	# is left once the first run's one-time work (mapping proposals) is done.
	if [ "${RESTAGE:-0}" = 1 ]; then
		rc=0
		measure "$tmp/run.json" "$tmp/run.err" "$concord" -d "$dd" run --user bench --restage || rc=$?
		state=$(jq -r '.state // empty' "$tmp/run.json" 2>/dev/null)
		if [ $rc -ne 0 ] || [ "$state" != "done" ]; then
			P_ERR="second run --restage: exit $rc, state ${state:-?}; stderr: $(tail -n 5 "$tmp/run.err")"
			return 1
		fi
		P_RE_S=$M_SECS
		P_RE_STAGE=$(jq -r '.timings_ms.stage // 0' "$tmp/run.json")
		# The mapping proposals again (their documents deleted): the
		# key-overlap evidence comes from the workspace's cache.
		sqlite3 "$dd"/workspaces/*/workspace.db 'DELETE FROM mappings' ||
			{ P_ERR="cannot delete the mappings"; return 1; }
		rc=0
		measure "$tmp/run.json" "$tmp/run.err" "$concord" -d "$dd" run --user bench --restage || rc=$?
		state=$(jq -r '.state // empty' "$tmp/run.json" 2>/dev/null)
		if [ $rc -ne 0 ] || [ "$state" != "done" ]; then
			P_ERR="third run (proposals again): exit $rc, state ${state:-?}; stderr: $(tail -n 5 "$tmp/run.err")"
			return 1
		fi
		P_RP_S=$M_SECS
		P_RP_STAGE=$(jq -r '.timings_ms.stage // 0' "$tmp/run.json")
	fi
	if [ -n "${KEEP_TO:-}" ]; then
		rm -rf "$KEEP_TO"
		mv "$dd" "$KEEP_TO"
	else
		rm -rf "$dd"
	fi
	return 0
}
# pipeline NAME RUNS FILES...: medians into R_<NAME>_<field>.
declare -A R
pipeline() {
	local name=$1 runs=$2 i p
	shift 2
	local -A v
	for i in $(seq "$runs"); do
		if ! pipeline_once "$tmp/dd" "$@"; then
			R[$name,err]=$P_ERR
			log "pipeline $name failed: $P_ERR"
			return
		fi
		v[up_s]+=" $P_UP_S"; v[up_k]+=" $P_UP_K"
		v[run_s]+=" $P_RUN_S"; v[run_k]+=" $P_RUN_K"; v[run_c]+=" $P_RUN_C"
		log "pipeline: $name, run $i/$runs: upload $P_UP_S s, run $P_RUN_S s (CPU $P_RUN_C s), $(mib "$P_RUN_K") MiB${RESTAGE:+, again with --restage $P_RE_S s}"
		if [ "${RESTAGE:-0}" = 1 ]; then
			v[re_s]+=" $P_RE_S"; v[re_stage]+=" $P_RE_STAGE"
			v[rp_s]+=" $P_RP_S"; v[rp_stage]+=" $P_RP_STAGE"
		fi
		for p in $PHASES; do local var=P_$p; v[$p]+=" ${!var}"; done
	done
	for p in up_s up_k run_s run_k run_c re_s re_stage rp_s rp_stage $PHASES; do
		[ -n "${v[$p]:-}" ] || continue
		# shellcheck disable=SC2086
		R[$name,$p]=$(median ${v[$p]})
	done
	R[$name,runs]=$runs R[$name,facts]=$P_FACTS R[$name,rows]=$P_ROWS R[$name,quar]=$P_QUAR
	R[$name,files]=$#
}
crm_files=()
while IFS= read -r f; do crm_files+=("$f"); done < <(find "$seeds/source_crm" "$seeds/source_erp" -maxdepth 1 -type f | sort)
RESTAGE=1 KEEP_TO=$tmp/crm-ws pipeline crm "$RUNS" "${crm_files[@]}"
# shellcheck disable=SC2086
KEEP_TO=$tmp/big-ws pipeline big 1 "$big" $masters

cell() { # cell NAME FIELD KIND
	local val=${R[$1,$2]:-}
	[ -n "$val" ] || { echo "–"; return; }
	case $3 in s) echo "$val" ;; ms) ms2s "$val" ;; k) mib "$val" ;; esac
}
emit "### 2–3. Whole pipeline: concord upload + concord run"
emit ""
h2="CRM/ERP seeds: ${R[crm,files]:-?} files, $(thousands "${R[crm,rows]:-0}") rows (median of ${R[crm,runs]:-$RUNS})"
h3="1M sales lines + 5 master files, $(thousands "${R[big,rows]:-0}") rows (${R[big,runs]:-1} run)"
emit "| step | $h2 | $h3 |"
emit "|---|---:|---:|"
for name in crm big; do
	[ -z "${R[$name,err]:-}" ] || notes+=("pipeline $name FAILED: ${R[$name,err]}")
done
emit "| upload, seconds | $(cell crm up_s s) | $(cell big up_s s) |"
emit "| upload, peak RSS MiB | $(cell crm up_k k) | $(cell big up_k k) |"
emit "| run, seconds (wall) | $(cell crm run_s s) | $(cell big run_s s) |"
emit "| run, CPU seconds (user+sys) | $(cell crm run_c s) | $(cell big run_c s) |"
for p in stage reconcile load aggregate quality total; do
	emit "| run: \`timings_ms.$p\`, seconds | $(cell crm "$p" ms) | $(cell big "$p" ms) |"
done
emit "| run, peak RSS MiB | $(cell crm run_k k) | $(cell big run_k k) |"
emit "| second run, \`--restage\`, same workspace: seconds | $(cell crm re_s s) | not run |"
emit "| second run: \`timings_ms.stage\`, seconds | $(cell crm re_stage ms) | not run |"
emit "| third run, mappings deleted (proposals again, key overlap cached): seconds | $(cell crm rp_s s) | not run |"
emit "| third run: \`timings_ms.stage\`, seconds | $(cell crm rp_stage ms) | not run |"
emit "| facts loaded (quarantined) | $(thousands "${R[crm,facts]:-0}") (${R[crm,quar]:-–}) | $(thousands "${R[big,facts]:-0}") (${R[big,quar]:-–}) |"
emit ""

# --- 4. constant memory -------------------------------------------------------
emit "### 4. Ingest memory against input size (concord upload, median of $RUNS)"
emit ""
emit "| copies of sales_details.csv | data rows | MB | seconds | peak RSS MiB |"
emit "|---:|---:|---:|---:|---:|"
for c in 1 4 "$COPIES_BIG"; do
	if [ "$c" = "$COPIES_BIG" ]; then
		f=$big
		s=${T_SECS[upload]:-} k=${T_KIB[upload]:-}
	else
		f=$tmp/sales_x$c.csv
		build_copies "$c" "$f"
		secs=() kib=() ok=1
		for i in $(seq "$RUNS"); do
			fresh_dir "$tmp/dd"
			if measure "$tmp/o" "$tmp/e" "$concord" -d "$tmp/dd" upload --user bench "$f"; then
				log "memory: ${c}x, run $i/$RUNS: $M_SECS s, $(mib "$M_KIB") MiB"
				secs+=("$M_SECS"); kib+=("$M_KIB")
			else
				ok=0; notes+=("upload of ${c}x failed: $(tail -n 3 "$tmp/e")"); break
			fi
			rm -rf "$tmp/dd"
		done
		s='' k=''
		[ $ok -eq 0 ] || { s=$(median "${secs[@]}"); k=$(median "${kib[@]}"); }
	fi
	if [ -n "$k" ]; then
		emit "| $c | $(thousands "$(data_rows "$f")") | $(size_mb "$f") | $s | $(mib "$k") |"
	else
		emit "| $c | $(thousands "$(data_rows "$f")") | $(size_mb "$f") | failed | – |"
	fi
	[ "$f" = "$big" ] || rm -f "$f"
done
emit ""
# --- 5. ingest to queryable: upload + run --phase stage ----------------------
# The honest comparison with .import: both end with a queryable table of
# every row (concord's typed and cleaned, in stg_order_line).
st_secs=() st_stage=() st_up=() st_ok=1
for i in $(seq "$RUNS"); do
	fresh_dir "$tmp/dd"
	if ! measure "$tmp/o" "$tmp/e" "$concord" -d "$tmp/dd" upload --user bench "$big"; then
		notes+=("stage-only: upload failed: $(tail -n 3 "$tmp/e")"); st_ok=0; break
	fi
	up=$M_SECS
	if ! measure "$tmp/run.json" "$tmp/e" "$concord" -d "$tmp/dd" run --user bench --phase stage ||
	    [ "$(jq -r .state "$tmp/run.json")" != done ]; then
		notes+=("stage-only: run --phase stage failed: $(tail -n 3 "$tmp/e")"); st_ok=0; break
	fi
	n=$(sqlite3 "$tmp"/dd/workspaces/*/model.db 'SELECT COUNT(*) FROM stg_order_line')
	[ "$n" = "$big_rows" ] || { notes+=("stage-only: $n staged rows, want $big_rows"); st_ok=0; break; }
	st_up+=("$up"); st_stage+=("$M_SECS")
	st_secs+=("$(awk -v a="$up" -v b="$M_SECS" 'BEGIN { printf "%.2f", a + b }')")
	log "stage-only, run $i/$RUNS: upload $up s + run --phase stage $M_SECS s"
	rm -rf "$tmp/dd"
done
emit "### 5. Ingest to queryable: \`concord upload\` + \`concord run --phase stage\` (median of $RUNS)"
emit ""
emit "| step | seconds | × \`.import\` |"
emit "|---|---:|---:|"
if [ $st_ok -eq 1 ]; then
	emit "| sqlite3 \`.import\` (section 1) | ${T_SECS[import]:-–} | 1.00 |"
	emit "| concord upload | $(median "${st_up[@]}") | $(ratio "$(median "${st_up[@]}")" "${T_SECS[import]:-0}") |"
	emit "| concord run --phase stage (one file, a proposed mapping) | $(median "${st_stage[@]}") | $(ratio "$(median "${st_stage[@]}")" "${T_SECS[import]:-0}") |"
	emit "| **upload + stage: $(thousands "$big_rows") rows queryable in stg_order_line** | $(median "${st_secs[@]}") | $(ratio "$(median "${st_secs[@]}")" "${T_SECS[import]:-0}") |"
else
	emit "| failed (see Problems) | – | – |"
fi
emit ""

# --- 6. the read side over HTTP ----------------------------------------------
log "http: wrk against the CRM/ERP and 1M-line workspaces (tests/bench/http_bench.sh)"
http_args=()
[ -d "$tmp/crm-ws" ] && http_args+=("crm=$tmp/crm-ws")
[ -d "$tmp/big-ws" ] && http_args+=("1M=$tmp/big-ws")
if [ ${#http_args[@]} -gt 0 ] && bash "$repo/tests/bench/http_bench.sh" "$concord" "${http_args[@]}" >"$tmp/http.md"; then
	cat "$tmp/http.md" >>"$report"
else
	notes+=("http_bench.sh failed or had no workspace")
fi

if [ ${#notes[@]} -gt 0 ]; then
	emit "Problems:"
	emit ""
	for n in "${notes[@]}"; do emit "- ${n//$'\n'/ }"; done
	emit ""
fi

emit "Load average (1, 5, 15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)."
emit "Other work on the machine inflates every time; compare rows of one report."
emit ""
cat "$report"
if [ -n "$out_file" ]; then
	cp "$report" "$out_file" || die "cannot write $out_file"
	log "wrote $out_file"
fi
status=0
[ ${#notes[@]} -eq 0 ] || status=1
exit $status
