#!/usr/bin/env bash
# tests/bench/xlsx_bench.sh - xlsx ingest and export next to CSV. A
# measuring program, not a test: neither `make check` nor tests/run runs it.
#
# Builds one CSV of ROWS data rows (default 1,026,766: 17 copies of the
# crm-erp sales_details.csv, as bench.sh does; at most 1,048,575, a sheet's
# limit), writes the same rows as an xlsx workbook with openpyxl's
# write_only mode (typed cells: integers, decimals, dates with a date
# style; Debian's /usr/bin/python3 and python3-openpyxl), then measures:
#   1. ingest: `concord upload` of the CSV and of the xlsx (each into a
#      fresh data dir): wall time, rows/s, CPU and peak RSS (GNU time)
#   2. export: after `concord upload` + `concord run` of the CSV with the
#      five master files, fact_sales written as CSV and as xlsx by
#      tests/bench/export_bench (query_parse/open/write, as the HTTP
#      handler, without HTTP): wall time, rows/s, peak RSS, bytes
# RUNS runs of each measure (default 3), medians reported. Prints Markdown
# on stdout, progress on stderr. Needs `make check` built (export_bench).
#
# usage: tests/bench/xlsx_bench.sh [ROWS]
# env:   CONCORD_SHARED, CONCORD (default <repo>/concord), RUNS, TMPDIR
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared=${CONCORD_SHARED:-$repo/../shared}
concord=${CONCORD:-$repo/concord}
exporter=$repo/tests/bench/export_bench
seeds=$shared/data/seeds/crm-erp
sales=$seeds/source_crm/sales_details.csv
masters="$seeds/source_crm/cst_info.csv $seeds/source_crm/prd_info.csv
$seeds/source_erp/CST_AZ12.csv $seeds/source_erp/LOC_A101.csv
$seeds/source_erp/PX_CAT_G1V2.csv"
ROWS=${1:-1026766}
RUNS=${RUNS:-3}
PY=/usr/bin/python3
export LC_NUMERIC=C

die() { echo "xlsx_bench.sh: $*" >&2; exit 1; }
say() { echo "xlsx_bench.sh: $*" >&2; }
[ -x "$concord" ] || die "no $concord: run make"
[ -x "$exporter" ] || die "no $exporter: run make check (or make tests/bench/export_bench)"
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) needed: apt-get install time"
$PY -c 'import openpyxl' 2>/dev/null || die "python3-openpyxl needed for $PY"
[ "$ROWS" -le 1048575 ] || die "a sheet holds at most 1,048,575 data rows"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/concord-xlsx-bench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

measure() {
	local o=$1 e=$2 rc=0
	shift 2
	/usr/bin/time -o "$tmp/time" -f '%e %M %U %S' "$@" >"$o" 2>"$e" || rc=$?
	local u sy
	read -r M_SECS M_KIB u sy < <(tail -n 1 "$tmp/time")
	M_CPU=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')
	return $rc
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
per_s() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%d", n / s; else print "n/a" }'; }
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }
fresh_dir() {
	rm -rf "$1"
	"$concord" -d "$1" init >/dev/null 2>&1 || die "concord init failed"
	printf 'pw12345678\n' | "$concord" -d "$1" user add bench --role admin >/dev/null 2>&1 ||
		die "concord user add failed"
}

# --- inputs ---------------------------------------------------------------
csv=$tmp/sales_big.csv
xlsx=$tmp/sales_big.xlsx
per=$(($(wc -l <"$sales") - 1))
{ head -n 1 "$sales"; for _ in $(seq $(((ROWS + per - 1) / per))); do tail -n +2 "$sales"; done; } |
	head -n $((ROWS + 1)) >"$csv"
[ "$(($(wc -l <"$csv") - 1))" -eq "$ROWS" ] || die "building the CSV failed"
say "writing $ROWS rows as xlsx with openpyxl (write_only)..."
measure "$tmp/o" "$tmp/e" $PY - "$csv" "$xlsx" <<'PYEOF' || die "openpyxl: $(cat "$tmp/e")"
import csv, datetime, re, sys
import openpyxl
from openpyxl.cell import WriteOnlyCell
INT = re.compile(r"-?[1-9][0-9]*$|0$")
DEC = re.compile(r"-?[0-9]+\.[0-9]+$")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}$")
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet("sales_details")
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    r = csv.reader(f)
    ws.append(next(r))
    for rec in r:
        out = []
        for v in rec:
            if INT.match(v):
                out.append(int(v))
            elif DEC.match(v):
                out.append(float(v))
            elif DATE.match(v):
                try:
                    out.append(datetime.date.fromisoformat(v))
                except ValueError:
                    out.append(v)
            else:
                out.append(v if v else None)
        ws.append(out)
wb.save(sys.argv[2])
PYEOF
gen_secs=$M_SECS

emit() { printf '%s\n' "$*"; }
emit "### xlsx ingest and export next to CSV (\`tests/bench/xlsx_bench.sh\`)"
emit ""
emit "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
emit "- machine: nproc $(nproc), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), RAM $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
emit "- concord: tree $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'); libzip $(pkg-config --modversion libzip), expat $(pkg-config --modversion expat), libxlsxwriter $(dpkg-query -W -f '${Version}' libxlsxwriter-dev 2>/dev/null)"
emit "- input: $ROWS data rows of crm-erp sales_details.csv (copies); CSV $(mb "$csv") MB; xlsx $(mb "$xlsx") MB (openpyxl $($PY -c 'import openpyxl; print(openpyxl.__version__)') write_only, typed cells, ${gen_secs} s to write)"
emit "- $RUNS runs each, medians; wall time, CPU and peak RSS from \`/usr/bin/time -f '%e %M %U %S'\`"
emit ""

# --- 1. ingest --------------------------------------------------------------
emit "| ingest (\`concord upload\`) | seconds | rows/s | CPU s | peak RSS MiB |"
emit "|---|---:|---:|---:|---:|"
for kind in csv xlsx; do
	f=$csv; [ $kind = xlsx ] && f=$xlsx
	S=(); K=(); C=()
	for _ in $(seq "$RUNS"); do
		fresh_dir "$tmp/dd"
		say "upload $kind..."
		measure "$tmp/o" "$tmp/e" "$concord" -d "$tmp/dd" upload --user bench "$f" ||
			die "upload $kind: $(cat "$tmp/e")"
		grep -q "rows $ROWS\$" "$tmp/o" || die "upload $kind: $(cat "$tmp/o")"
		S+=("$M_SECS"); K+=("$M_KIB"); C+=("$M_CPU")
	done
	s=$(median "${S[@]}")
	emit "| $kind ($(mb "$f") MB) | $s | $(per_s "$ROWS" "$s") | $(median "${C[@]}") | $(mib "$(median "${K[@]}")") |"
done
emit ""

# --- 2. export ----------------------------------------------------------------
say "upload + run for the export..."
fresh_dir "$tmp/dd"
# shellcheck disable=SC2086
"$concord" -d "$tmp/dd" upload --user bench "$csv" $masters >"$tmp/o" 2>"$tmp/e" || die "upload: $(cat "$tmp/e")"
"$concord" -d "$tmp/dd" run --user bench >"$tmp/run.json" 2>"$tmp/e" || die "run: $(cat "$tmp/e")"
uid=$(ls "$tmp/dd/workspaces" | head -n 1)
emit "| export of fact_sales (export_bench) | rows | seconds | rows/s | CPU s | peak RSS MiB | MB |"
emit "|---|---:|---:|---:|---:|---:|---:|"
for kind in csv xlsx; do
	S=(); K=(); C=()
	for _ in $(seq "$RUNS"); do
		say "export $kind..."
		measure "$tmp/o" "$tmp/e" "$exporter" "$tmp/dd" "$uid" fact_sales $kind "$tmp/out.$kind" ||
			die "export $kind: $(cat "$tmp/e")"
		S+=("$M_SECS"); K+=("$M_KIB"); C+=("$M_CPU")
	done
	n=$(awk '{ print $2 }' "$tmp/o")
	s=$(median "${S[@]}")
	emit "| $kind | $n | $s | $(per_s "$n" "$s") | $(median "${C[@]}") | $(mib "$(median "${K[@]}")") | $(mb "$tmp/out.$kind") |"
done
