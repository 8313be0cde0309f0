#!/usr/bin/env bash
# tests/bench/er_bench.sh - quality and speed of entity resolution through
# the product's own path.  A measuring program, not a test: neither
# `make check`, tests/run nor CI runs it.
#
# For each data set: a fresh data dir (`concord init`, `concord user add`),
# `concord upload` of its files, the mapping a user would confirm (stored by
# er_eval.py confirm exactly as PUT /api/v1/files/{id}/mapping stores it),
# `concord run --user` under GNU time (wall, peak RSS, CPU), then the
# clusters read back from the model (stg_<entity>._key per source row) and
# scored by er_eval.py eval against the ground truth: pairwise precision,
# recall and F1 (pairs within predicted clusters against pairs within true
# clusters), plus the pairs the matcher compared (the run's report).  No
# label reaches the matcher.
#
# Data sets (--only takes a comma-separated subset of these names):
#   febrl     FEBRL dataset1, 2, 3 onto customer
#   fake      splink fake_1000 onto customer
#   products  Abt-Buy "small" (tests/bench/data/) onto the built-in product
#             (dedupe linkage)
#   products-linkage  the same files onto a user entity "offer" defined
#             with `concord entity put` (one_to_one linkage)
#   biblio    DBLP-ACM, a documented subset (tests/bench/data/), onto a
#             user entity "publication" (one_to_one linkage)
#   speed     synthetic persons (er_eval.py gen, seed 42) for each N of
#             --sizes (default "10000 100000 1000000")
#
# usage: tests/bench/er_bench.sh [--only LIST] [--sizes "N ..."] [--out FILE]
#        [--keep]
# env:   CONCORD_SHARED (default <repo>/../shared), CONCORD (default
#        <repo>/concord; build it with `make` first), TMPDIR
# Prints a Markdown table on stdout (progress on stderr); --keep leaves the
# data dirs in the temporary directory (printed) for inspection.
set -u

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; }

only=febrl,fake,products,products-linkage,biblio,speed
sizes="10000 100000 1000000"
out_file=
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--out) out_file=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "er_bench.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
done

repo=$(cd "$(dirname "$0")/../.." && pwd)
shared=${CONCORD_SHARED:-$repo/../shared}
concord=${CONCORD:-$repo/concord}
bench=$repo/tests/bench
data=$bench/data
er=$shared/data/entity-resolution
PY=python3
TIME=/usr/bin/time
EVAL="$PY $bench/er_eval.py"

[ -x "$concord" ] || { echo "er_bench.sh: no $concord (run make)" >&2; exit 1; }
[ -x "$TIME" ] || { echo "er_bench.sh: GNU time ($TIME) is needed (apt-get install time)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/er_bench.XXXXXX")
if [ "$keep" = 0 ]; then
	trap 'rm -rf "$tmp"' EXIT
else
	echo "er_bench.sh: data dirs kept in $tmp" >&2
fi
results=$tmp/results.ndjson
: > "$results"

want() { case ",$only," in *",$1,"*) return 0 ;; esac; return 1; }
log() { echo "er_bench: $*" >&2; }

# case NAME ENTITY -- FILE MAPPING_JSON [FILE MAPPING_JSON...] -- EVAL_ARGS...
# EVAL_ARGS may name the files' ids as @1, @2, ... (in upload order).
# When DEFINE holds an entity definition (JSON), the user defines that
# entity first with `concord entity put` (the checks of
# POST /api/v1/schema/entities).
run_case() {
	local name=$1 entity=$2 d=$tmp/$1 ids=() f m id ws t0 t1
	shift 3
	rm -rf "$d"
	mkdir -p "$d"
	"$concord" -d "$d/data" init > /dev/null || return 1
	printf 'er-bench-password\n' | "$concord" -d "$d/data" user add bench --role admin > /dev/null ||
		return 1
	if [ -n "${DEFINE:-}" ]; then
		printf '%s\n' "$DEFINE" > "$d/entity.json"
		"$concord" -d "$d/data" entity put --user bench < "$d/entity.json" > /dev/null 2> "$d/entity.err" ||
			{ log "$name: entity put refused: $(cat "$d/entity.err")"; return 1; }
	fi
	ws=$(ls -d "$d"/data/workspaces/*/ 2>/dev/null | head -1)
	t0=$(date +%s.%N)
	while [ "$1" != "--" ]; do
		f=$1 m=$2
		shift 2
		id=$("$concord" -d "$d/data" upload --user bench "$f" | awk '/registered/ { print $1 }')
		[ -n "$id" ] || { log "$name: upload of $f failed"; return 1; }
		ws=$(ls -d "$d"/data/workspaces/*/ | head -1)
		printf '%s\n' "$m" > "$d/mapping-${#ids[@]}.json"
		$EVAL confirm "$ws/workspace.db" "$id" "$d/mapping-${#ids[@]}.json" || return 1
		ids+=("$id")
	done
	shift
	t1=$(date +%s.%N)
	log "$name: run"
	"$TIME" -f '%e %M %U %S' -o "$d/time" "$concord" -d "$d/data" run --user bench \
		> "$d/run.json" 2> "$d/run.err" || { log "$name: run failed: $(tail -3 "$d/run.err")"; return 1; }
	local args=() a k
	for a in "$@"; do
		for k in "${!ids[@]}"; do
			[ "$a" = "@$((k + 1))" ] && a=${ids[$k]}
		done
		args+=("$a")
	done
	$EVAL eval --model "$ws/model.db" --entity "$entity" --run "$d/run.json" "${args[@]}" > "$d/eval.json" ||
		return 1
	read -r wall rss ucpu scpu < "$d/time"
	$PY - "$name" "$d/eval.json" "$wall" "$rss" "$ucpu" "$scpu" "$t0" "$t1" >> "$results" <<-'EOF'
	import json, sys
	n, ev, wall, rss, u, s, t0, t1 = sys.argv[1:]
	d = json.load(open(ev))
	d.update(name=n, wall_s=float(wall), rss_mib=int(rss) / 1024, cpu_s=float(u) + float(s),
	         upload_s=float(t1) - float(t0))
	print(json.dumps(d))
	EOF
	log "$name: $(tail -1 "$results" | $PY -c 'import json,sys; d=json.load(sys.stdin); print("F1 %.4f P %.4f R %.4f, %s pairs compared, %.2f s, %.0f MiB" % (d["f1"], d["precision"], d["recall"], d["pairs_compared"], d["wall_s"], d["rss_mib"]))')"
}

CUSTOMER_FEBRL='{"rec_id": "customer.customer_id", "given_name": "customer.first_name",
 "surname": "customer.last_name", "address_1": "customer.address", "suburb": "customer.city",
 "postcode": "customer.postal_code", "state": "customer.state", "date_of_birth": "customer.birth_date"}'
CUSTOMER_FAKE='{"unique_id": "customer.customer_id", "first_name": "customer.first_name",
 "surname": "customer.last_name", "dob": "customer.birth_date", "city": "customer.city",
 "email": "customer.email"}'
CUSTOMER_GEN='{"rec_id": "customer.customer_id", "first_name": "customer.first_name",
 "last_name": "customer.last_name", "birth_date": "customer.birth_date", "email": "customer.email",
 "address": "customer.address", "city": "customer.city", "postal_code": "customer.postal_code",
 "state": "customer.state"}'

if want febrl; then
	for n in 1 2 3; do
		f=$er/febrl/dataset$n.csv
		run_case "febrl-dataset$n" customer -- "$f" "$CUSTOMER_FEBRL" -- \
			--skip-space --file @1 "$f" --id-col rec_id --pairs "$er/febrl/dataset${n}_true_pairs.csv"
	done
fi

if want fake; then
	f=$er/splink-fake-1000/fake_1000.csv
	run_case fake_1000 customer -- "$f" "$CUSTOMER_FAKE" -- --file @1 "$f" --label-col cluster
fi

# Abt-Buy "small" (tests/bench/data/PROVENANCE.md): 248 + 249 offers
PRODUCT_ABT='{"idABT": "product.product_id", "name": "product.name", "description": "product.description",
 "price": "product.price"}'
PRODUCT_BUY='{"idBuy": "product.product_id", "name": "product.name", "description": "product.description",
 "manufacturer": "product.manufacturer", "price": "product.price"}'
ABT_BUY_EVAL="--file @1 $data/abt_small.csv --id-col idABT --file @2 $data/buy_small.csv --id-col idBuy
 --pairs $data/abt_buy_truth_small.csv"

if want products; then
	# onto the built-in product entity (dedupe linkage)
	# shellcheck disable=SC2086
	run_case abt-buy product -- "$data/abt_small.csv" "$PRODUCT_ABT" "$data/buy_small.csv" "$PRODUCT_BUY" -- \
		$ABT_BUY_EVAL
fi

if want products-linkage; then
	# the same two catalogues onto a user entity: each shop lists an
	# offer once, so one_to_one; model_number is not mapped: the matcher
	# takes it from name and description
	DEFINE='{"name": "offer", "linkage": "one_to_one",
	 "blocking": ["model_number:codeword", "name:codeword", "description:codeword", "name:first3+manufacturer"],
	 "attributes": [
	   {"name": "offer_id", "type": "key", "role": "natural_key"},
	   {"name": "name", "type": "text", "compare": "longtext"},
	   {"name": "description", "type": "text", "compare": "longtext"},
	   {"name": "manufacturer", "type": "text", "compare": "exact"},
	   {"name": "price", "type": "money", "compare": "number"},
	   {"name": "model_number", "type": "text", "compare": "codes"}]}'
	OFFER_ABT='{"idABT": "offer.offer_id", "name": "offer.name", "description": "offer.description",
	 "price": "offer.price"}'
	OFFER_BUY='{"idBuy": "offer.offer_id", "name": "offer.name", "description": "offer.description",
	 "manufacturer": "offer.manufacturer", "price": "offer.price"}'
	# shellcheck disable=SC2086
	DEFINE=$DEFINE run_case abt-buy-linkage offer -- "$data/abt_small.csv" "$OFFER_ABT" \
		"$data/buy_small.csv" "$OFFER_BUY" -- $ABT_BUY_EVAL
fi

if want biblio; then
	# DBLP-ACM, a documented subset (tests/bench/data/PROVENANCE.md), onto
	# a user entity: each table is duplicate-free, so one_to_one
	DEFINE='{"name": "publication", "linkage": "one_to_one",
	 "blocking": ["title:first3", "title:soundex+year", "authors:first3+year"],
	 "attributes": [
	   {"name": "pub_id", "type": "key", "role": "natural_key"},
	   {"name": "title", "type": "text", "compare": "longtext"},
	   {"name": "authors", "type": "text", "compare": "longtext"},
	   {"name": "venue", "type": "text", "compare": "text"},
	   {"name": "year", "type": "integer", "compare": "number"}]}'
	BIB='{"id": "publication.pub_id", "title": "publication.title", "authors": "publication.authors",
	 "venue": "publication.venue", "year": "publication.year"}'
	DEFINE=$DEFINE run_case dblp-acm publication -- "$data/dblp_subset.csv" "$BIB" "$data/acm_subset.csv" "$BIB" -- \
		--file @1 "$data/dblp_subset.csv" --id-col id --file @2 "$data/acm_subset.csv" --id-col id \
		--pairs "$data/dblp_acm_truth_subset.csv"
fi

if want speed; then
	for n in $sizes; do
		log "synthetic-$n: generating"
		$PY "$bench/er_eval.py" gen "$n" 42 "$tmp/persons-$n.csv" "$tmp/persons-$n-truth.csv" || exit 1
		run_case "synthetic-$n" customer -- "$tmp/persons-$n.csv" "$CUSTOMER_GEN" -- \
			--file @1 "$tmp/persons-$n.csv" --label-file "$tmp/persons-$n-truth.csv"
		rm -f "$tmp/persons-$n.csv" "$tmp/persons-$n-truth.csv"
		[ "$keep" = 1 ] || rm -rf "$tmp/synthetic-$n"
	done
fi

report() {
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: nproc $(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
		"RAM $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- concord: $("$concord" -V 2>&1 | head -1), tree $(git -C "$repo" describe --always --dirty 2>/dev/null)"
	echo
	$PY - "$results" <<-'EOF'
	import json, sys
	rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
	print("| data set | records | true pairs | pairs compared | predicted pairs | P | R | F1 |"
	      " upload s | run s (wall) | run CPU s | reconcile s | peak RSS MiB |")
	print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for d in rows:
	    t = d.get("timings_ms") or {}
	    print("| %s | %s | %s | %s | %s | %.4f | %.4f | **%.4f** | %.2f | %.2f | %.2f | %.2f | %.0f |" % (
	        d["name"], format(d["records"], ","), format(d["true_pairs"], ","),
	        format(d["pairs_compared"] or 0, ","), format(d["predicted_pairs"], ","), d["precision"],
	        d["recall"], d["f1"], d["upload_s"], d["wall_s"], d["cpu_s"], t.get("reconcile", 0) / 1000,
	        d["rss_mib"]))
	EOF
}

if [ -n "$out_file" ]; then
	report | tee "$out_file"
	cp "$results" "${out_file%.*}.ndjson"
else
	report
fi
