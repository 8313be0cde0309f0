#!/usr/bin/env bash
# tests/bench/http_bench.sh - the read side behind nginx against a trivial
# libfcgi responder (tests/bench/fcgi_trivial.c) behind the same nginx.
# A measuring program, not a test; bench.sh runs it after its pipeline
# sections with the workspaces they built, and it can run alone:
#
# usage: tests/bench/http_bench.sh CONCORD_BIN LABEL=DATA_DIR...
#   each DATA_DIR holds user "bench" (password pw12345678) with a model
#   (a done run); LABEL names it in the report ("crm", "1M").
# env:   WRK_SECS (seconds per wrk run, default 10), WRK_CONNS (64),
#        WORKERS (concord serve --workers and the responder's, default 2),
#        TMPDIR
#
# Prints a Markdown report on stdout (progress on stderr):
#   - wrk -t2 -cWRK_CONNS: req/s, p50, p99 and errors of /trivial, health,
#     every dashboard (sales with and without filters), a table page, with
#     each figure's ratio to the trivial responder (the median of its
#     runs at the start, middle and end of the section), and to the same
#     responder closing its connections as Concord's workers do
#     (/trivial-close: no lingering close, see fcgi/server.c);
#   - the same sales URLs with dashboard_cache off (the aggregates alone),
#     the table pages with page_cache off (each page read and written);
#   - one request alone: median of 5 curl times per URL, cache off;
#   - abandoned requests: wrk with a 1 s client timeout on a heavy table
#     request, then how long until the service answers health again;
#   - a streamed CSV export against sqlite3 -csv of the same table.
set -u
export LC_NUMERIC=C

[ $# -ge 2 ] || { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
concord=$1
shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
WRK_SECS=${WRK_SECS:-10}
WRK_CONNS=${WRK_CONNS:-64}
WORKERS=${WORKERS:-2}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

log() { printf '%s\n' "http_bench: $*" >&2; }
die() { log "$*"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/concord-http.XXXXXX") || die "mktemp failed"
pids=()
cleanup() {
	[ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.3
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gcc -O2 -o "$tmp/fcgi_trivial" "$repo/tests/bench/fcgi_trivial.c" -lfcgi ||
	die "cannot build fcgi_trivial (libfcgi-dev)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
user_line=
[ "$(id -u)" -ne 0 ] || user_line="user root;"
mkdir -p "$tmp/ngx"
cat >"$tmp/nginx.conf" <<EOF
$user_line
worker_processes 1;
error_log $tmp/nginx-error.log warn;
pid $tmp/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/ngx/body; fastcgi_temp_path $tmp/ngx/fcgi;
    proxy_temp_path $tmp/ngx/proxy; uwsgi_temp_path $tmp/ngx/uwsgi; scgi_temp_path $tmp/ngx/scgi;
    server {
        listen 127.0.0.1:$port;
        fastcgi_param QUERY_STRING \$query_string;
        fastcgi_param REQUEST_METHOD \$request_method;
        fastcgi_param CONTENT_TYPE \$content_type;
        fastcgi_param CONTENT_LENGTH \$content_length if_not_empty;
        fastcgi_param REQUEST_URI \$request_uri;
        fastcgi_param SCRIPT_NAME "";
        fastcgi_param PATH_INFO \$uri;
        fastcgi_param DOCUMENT_URI \$document_uri;
        fastcgi_param SERVER_PROTOCOL \$server_protocol;
        fastcgi_param REMOTE_ADDR \$remote_addr;
        fastcgi_param HTTP_HOST \$http_host;
        # as conf/nginx/concord.conf: answers and table pages buffered,
        # exports streamed (the service sends X-Accel-Buffering: no)
        location /api/ { fastcgi_pass unix:$tmp/concord.sock; }
        location /api/v1/tables/ { fastcgi_pass unix:$tmp/concord.sock; fastcgi_buffers 32 8k; fastcgi_max_temp_file_size 0; }
        location = /trivial { fastcgi_pass unix:$tmp/trivial.sock; }
        location = /trivial-close { fastcgi_pass unix:$tmp/trivial-close.sock; }
    }
}
EOF
"$tmp/fcgi_trivial" "$tmp/trivial.sock" "$WORKERS" &
trivial_pid=$!
pids+=($!)
"$tmp/fcgi_trivial" "$tmp/trivial-close.sock" "$WORKERS" close &
trivial_close_pid=$!
pids+=($!)
"$NGINX" -c "$tmp/nginx.conf" -p "$tmp" || die "nginx did not start ($tmp/nginx-error.log)"

serve_pid=
# serve DATA_DIR [VAR=VALUE...]: (re)starts concord serve; sets TOKEN.
serve() {
	local dd=$1 i
	shift
	stop_serve
	rm -f "$tmp/concord.sock"
	env CONCORD_COOKIE_SECURE=0 "$@" "$concord" -d "$dd" serve --socket "$tmp/concord.sock" \
		--workers "$WORKERS" >>"$tmp/concord.log" 2>&1 &
	serve_pid=$!
	for i in $(seq 100); do [ -S "$tmp/concord.sock" ] && break; sleep 0.05; done
	TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
		-d '{"username":"bench","password":"pw12345678"}' "$base/api/v1/auth/login" | jq -r '.token // empty')
	[ -n "$TOKEN" ] || die "no token from $dd (log: $(tail -n 3 "$tmp/concord.log"))"
}
stop_serve() {
	[ -n "$serve_pid" ] || return 0
	kill "$serve_pid" 2>/dev/null
	wait "$serve_pid" 2>/dev/null
	serve_pid=
}

# to_ms VALUE: wrk's "4.93ms" / "812.00us" / "1.20s" in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
		else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
# ticks PID...: their user + system CPU time in clock ticks (/proc/PID/stat).
ticks() {
	local s=0 p
	for p in "$@"; do
		s=$((s + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$s"
}
hz=$(getconf CLK_TCK)
# The processes that answer URL: the responder's, or concord's workers
# (not its runner); and nginx's worker.
app_pids() {
	local p
	if [ "$1" = /trivial ]; then
		pgrep -P "$trivial_pid" | tr '\n' ' '
		echo "$trivial_pid"
		return
	fi
	if [ "$1" = /trivial-close ]; then
		pgrep -P "$trivial_close_pid" | tr '\n' ' '
		echo "$trivial_close_pid"
		return
	fi
	for p in $(pgrep -P "$serve_pid"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = concord-runner ] || printf '%s ' "$p"
	done
}
# wrk_run URL [AUTH]: sets W_RPS W_P50 W_P99 W_ERR (non-2xx + socket errors)
# and W_APP, W_NGX: CPU microseconds per request of the answering
# processes and of nginx's worker.
wrk_run() {
	local url=$1 auth=${2:-1} out=$tmp/wrk.out apps ngx a0 n0 a1 n1 reqs
	apps=$(app_pids "$url")
	ngx=$(pgrep -f "nginx: worker process" -P "$(cat "$tmp/nginx.pid")" | head -n 1)
	# shellcheck disable=SC2086
	a0=$(ticks $apps)
	n0=$(ticks "$ngx")
	if [ "$auth" = 1 ]; then
		wrk -t2 -c"$WRK_CONNS" -d"${WRK_SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$base$url" >"$out" 2>&1
	else
		wrk -t2 -c"$WRK_CONNS" -d"${WRK_SECS}s" --latency "$base$url" >"$out" 2>&1
	fi
	W_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	W_P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
	W_P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
	W_ERR=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
		END { print n + 0 }' "$out")
	# shellcheck disable=SC2086
	a1=$(ticks $apps)
	n1=$(ticks "$ngx")
	reqs=$(awk '/requests in/ { print $1 }' "$out")
	W_APP=$(awk -v t=$((a1 - a0)) -v n="${reqs:-0}" -v hz="$hz" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "n/a" }')
	W_NGX=$(awk -v t=$((n1 - n0)) -v n="${reqs:-0}" -v hz="$hz" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "n/a" }')
	log "wrk $url: ${W_RPS:-?} req/s, p50 $W_P50 ms, p99 $W_P99 ms, errors $W_ERR, CPU/req app $W_APP us nginx $W_NGX us"
}
trivial_rps=()
trivial_close_rps=()
trivial_row() {
	wrk_run /trivial 0
	trivial_rps+=("$W_RPS")
	rows+=("| trivial libfcgi responder (run ${#trivial_rps[@]}) | – | ${W_RPS} | – | – | $W_P50 | $W_P99 | $W_ERR | $W_APP | $W_NGX |")
	wrk_run /trivial-close 0
	trivial_close_rps+=("$W_RPS")
	rows+=("| trivial responder, Concord's close (run ${#trivial_close_rps[@]}) | – | ${W_RPS} | – | – | $W_P50 | $W_P99 | $W_ERR | $W_APP | $W_NGX |")
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Filter values that exist in a model: its most frequent country and
# category, and its middle year.
filters_of() {
	local m=$1/workspaces/*/model.db
	# shellcheck disable=SC2086
	F_COUNTRY=$(sqlite3 $m "SELECT country FROM agg_sales_order WHERE country IS NOT NULL GROUP BY 1 ORDER BY SUM(lines) DESC LIMIT 1")
	# shellcheck disable=SC2086
	F_CATEGORY=$(sqlite3 $m "SELECT category FROM agg_sales_order WHERE category IS NOT NULL GROUP BY 1 ORDER BY SUM(lines) DESC LIMIT 1")
	# shellcheck disable=SC2086
	F_YEAR=$(sqlite3 $m "SELECT substr(day, 1, 4) FROM agg_sales_order WHERE day IS NOT NULL ORDER BY day LIMIT 1 OFFSET (SELECT COUNT(day) / 2 FROM agg_sales_order)")
}
urlenc() { jq -rn --arg v "$1" '$v | @uri'; }

rows=()
cold=()
emit_rows() { printf '%s\n' "${rows[@]}"; }

trivial_row
for spec in "$@"; do
	label=${spec%%=*} dd=${spec#*=}
	filters_of "$dd"
	c=$(urlenc "$F_COUNTRY") k=$(urlenc "$F_CATEGORY")
	sales_urls=("/api/v1/dashboards/sales"
		"/api/v1/dashboards/sales?country=$c"
		"/api/v1/dashboards/sales?category=$k"
		"/api/v1/dashboards/sales?from=$F_YEAR-01-01&to=$F_YEAR-12-31"
		"/api/v1/dashboards/sales?from=$F_YEAR-01-01&country=$c&category=$k")
	urls=(/api/v1/health "${sales_urls[@]}" /api/v1/dashboards/customers /api/v1/dashboards/products
		/api/v1/dashboards/quality /api/v1/dashboards/sources "/api/v1/tables/dim_customer?_size=50"
		"/api/v1/tables/fact_sales?_size=50")
	serve "$dd"
	for u in "${urls[@]}"; do
		wrk_run "$u"
		rows+=("| $label | \`$u\` | $W_RPS | @$W_RPS@ | $W_P50 | $W_P99 | $W_ERR | $W_APP | $W_NGX |")
	done
	# the aggregates and the tables alone: no kept answers
	serve "$dd" CONCORD_DASHBOARD_CACHE=0 CONCORD_PAGE_CACHE=0
	for u in "${sales_urls[@]}"; do
		wrk_run "$u"
		rows+=("| $label, dashboard_cache off | \`$u\` | $W_RPS | @$W_RPS@ | $W_P50 | $W_P99 | $W_ERR | $W_APP | $W_NGX |")
	done
	for u in "/api/v1/tables/dim_customer?_size=50" "/api/v1/tables/fact_sales?_size=50"; do
		wrk_run "$u"
		rows+=("| $label, page_cache off | \`$u\` | $W_RPS | @$W_RPS@ | $W_P50 | $W_P99 | $W_ERR | $W_APP | $W_NGX |")
	done
	# one request alone, nothing kept: median of 5
	for u in "${sales_urls[@]}" /api/v1/dashboards/customers /api/v1/dashboards/products \
	    /api/v1/dashboards/quality /api/v1/dashboards/sources "/api/v1/tables/dim_customer?_size=50"; do
		ts=()
		for _ in 1 2 3 4 5; do
			ts+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$base$u")")
		done
		cold+=("| $label | \`$u\` | $(awk -v s="$(median "${ts[@]}")" 'BEGIN { printf "%.1f", s * 1000 }') |")
	done
	trivial_row
done
peer=$(median "${trivial_rps[@]}")
peer_close=$(median "${trivial_close_rps[@]}")

# --- abandoned requests (on the last workspace) ---------------------------
label=${*: -1}
label=${label%%=*}
dd=${*: -1}
dd=${dd#*=}
heavy="/api/v1/tables/fact_sales?_sort=unit_price&status__contains=zz&_size=50"
serve "$dd" CONCORD_DASHBOARD_CACHE=0 CONCORD_PAGE_CACHE=0
t0=$(date +%s.%N)
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$base$heavy"
one=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
gone_before=$(grep -c client_gone "$tmp/concord.log")
wrk -t2 -c"$WRK_CONNS" -d3s --timeout 1s -H "Authorization: Bearer $TOKEN" "$base$heavy" >"$tmp/wrk.out" 2>&1
t0=$(date +%s.%N)
curl -s -o /dev/null -m 120 "$base/api/v1/health"
free_after=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
sleep 1
gone=$(( $(grep -c client_gone "$tmp/concord.log") - gone_before ))
done_reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
timeouts=$(awk '/Socket errors/ { gsub(",", ""); print $NF }' "$tmp/wrk.out")
log "abandoned: one heavy request ${one}s; health answered ${free_after}s after the clients left; client_gone $gone"

# --- export against sqlite3 -csv --------------------------------------------
serve "$dd"
m=$(echo "$dd"/workspaces/*/model.db)
exp_rows=$(sqlite3 "$m" 'SELECT COUNT(*) FROM fact_sales')
# both piped into wc -l (the rows are counted, nothing is written to disk)
t0=$(date +%s.%N)
sql_rows=$(sqlite3 -csv -header "$m" 'SELECT * FROM fact_sales' | wc -l)
s_csv=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
t0=$(date +%s.%N)
got_rows=$(curl -s -H "Authorization: Bearer $TOKEN" "$base/api/v1/tables/fact_sales.csv?_stream=1&_formulas=raw" | wc -l)
s_exp=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
got_rows=$((got_rows - 1))
sql_rows=$((sql_rows - 1))
log "export: sqlite3 -csv $s_csv s ($sql_rows rows), concord $s_exp s ($got_rows rows)"
stop_serve

# --- report -------------------------------------------------------------------
echo "### HTTP read side behind nginx (wrk -t2 -c$WRK_CONNS, ${WRK_SECS} s each, $WORKERS workers each)"
echo ""
echo "Peer: the trivial libfcgi responder (\`tests/bench/fcgi_trivial.c\`, $WORKERS workers) behind the"
echo "same nginx, measured $((${#trivial_rps[@]})) times in this section; \"× trivial\" is the ratio to its median,"
echo "$peer req/s.  \"× same close\" is the ratio to the same responder closing each connection as"
echo "Concord's workers do (\`fcgi_trivial SOCKET N close\`: no lingering close once the request was"
echo "read to its end), median $peer_close req/s."
echo ""
echo "CPU µs/req: user + system time of the answering processes (the responder's, or concord's"
echo "workers) and of nginx's worker during the wrk run, per completed request (clock ticks of"
echo "/proc/PID/stat: ±1 tick over the run).  nginx serves the API as conf/nginx/concord.conf"
echo "does: answers and table pages buffered, exports streamed (X-Accel-Buffering: no)."
echo ""
echo "| workspace | URL | req/s | × trivial | × same close | p50 ms | p99 ms | errors | app CPU µs/req | nginx CPU µs/req |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in "${rows[@]}"; do
	if [[ $r =~ @([0-9.]+)@ ]]; then
		x=$(awk -v a="${BASH_REMATCH[1]}" -v b="$peer" -v c="$peer_close" 'BEGIN {
			if (b > 0) printf "%.2f", a / b; else printf "n/a"
			if (c > 0) printf " | %.2f", a / c; else printf " | n/a" }')
		r=${r/@${BASH_REMATCH[1]}@/$x}
	fi
	echo "$r"
done
echo ""
echo "One request alone (curl, median of 5, dashboard_cache and page_cache off: from the aggregates and tables):"
echo ""
echo "| workspace | URL | ms |"
echo "|---|---|---:|"
printf '%s\n' "${cold[@]}"
echo ""
echo "Abandoned requests ($label): one \`$heavy\` alone takes $one s; wrk -c$WRK_CONNS for 3 s with a 1 s"
echo "client timeout completed ${done_reqs:-?} requests (${timeouts:-?} timed out); health answered $free_after s"
echo "after the clients left; the log says client_gone $gone times."
echo ""
echo "Export ($label, fact_sales, $exp_rows rows; both piped into \`wc -l\`): \`sqlite3 -csv\` $s_csv s ($sql_rows rows);"
echo "\`GET /api/v1/tables/fact_sales.csv?_stream=1\`"
echo "through nginx $s_exp s ($got_rows rows): $(awk -v a="$s_csv" -v b="$s_exp" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }') × \`sqlite3 -csv\`'s speed."
echo ""
