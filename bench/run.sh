#!/usr/bin/env bash
# bench/run.sh (make bench): satmark against its peers on one machine, in one run.
#
#   1. pyramid builds: bench/pyramid vs vips dzsave --layout iiif3 (wall time and peak RSS,
#      median of 3, from /usr/bin/time) of 16384² images: a Q85 JPEG, a deflate-tiled 8-bit RGB
#      GeoTIFF, a deflate-tiled 16-bit 4-band GeoTIFF, an 8-bit RGB PNG (all made from the
#      JPEG with gdal_translate), and a JPEG-compressed YCbCr COG with overviews (the form of
#      Maxar Open Data); then, one run each, a 40000² JPEG and a 40000² deflate GeoTIFF
#      (BENCH_LARGE=0 leaves them out: the first run generates 1.5 GB of inputs)
#   1b. stretch: the default display (2–98 % stretch) of the 16-bit GeoTIFF without
#      overviews and of the same as a COG with overviews, vs gdalinfo -approx_stats on the
#      same files (GDAL's own sampled statistics, from the overviews when there are some)
#   2. tile serving: satmark's /iiif/3/{id}/ vs nginx over vips' tile folder, wrk with
#      2 threads and 32 connections over the same list of IIIF tile paths
#   3. uncached non-tile renders: satmark only, wrk with 8 connections over requests
#      that are all different (so none comes from the render cache); 503s counted
#
# It prints a table (also written to bench/out/results.txt). Absolute numbers drift by
# ±30 % between runs; compare the ratios of one run. A missed goal does not fail the run;
# an error does (non-zero exit). Scratch files go to a temporary folder under bench/out
# (removed at the end unless BENCH_KEEP=1); logs stay in bench/out/logs.
#
# Environment: BENCH_RUNS (pyramid runs per tool, default 3), BENCH_DURATION (each wrk
# run, default 10s), BENCH_KEEP=1 (keep the scratch folder), BENCH_ONLY=pyramid (parts 1
# and 1b alone), BENCH_LARGE=0 (no 40000² cases).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
LOGS=$OUT/logs
SIZE=16384
IMAGE=$OUT/landcover-$SIZE.jpg
TIFF8=$OUT/landcover-$SIZE-rgb8-deflate.tif
TIFF16=$OUT/landcover-$SIZE-u16x4-deflate.tif
COGJPEG=$OUT/landcover-$SIZE-cog-jpeg-ycbcr.tif
COG16=$OUT/landcover-$SIZE-u16x4-cog.tif
LARGE=${BENCH_LARGE:-1}
LSIZE=40000
LJPEG=$OUT/landcover-$LSIZE.jpg
LTIFF8=$OUT/landcover-$LSIZE-rgb8-deflate.tif
PNG8=$OUT/landcover-$SIZE.png
ONLY=${BENCH_ONLY:-}
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-10s}
GO=${GO:-go}

mkdir -p "$OUT" "$LOGS"
# One scratch folder on the same disk as the input, for both tools' pyramids, satmark's
# data folder and nginx's configuration.
WORK=$(mktemp -d "$OUT/work.XXXXXX")
SM_PID=""
NG_PID=""

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

cleanup() {
	local rc=$?
	if [[ -n $SM_PID ]] && kill -0 "$SM_PID" 2>/dev/null; then
		kill -TERM "$SM_PID" 2>/dev/null || true
		wait "$SM_PID" 2>/dev/null || true
	fi
	if [[ -n $NG_PID ]] && kill -0 "$NG_PID" 2>/dev/null; then
		kill -TERM "$NG_PID" 2>/dev/null || true # the master takes its workers down
		wait "$NG_PID" 2>/dev/null || true
	fi
	if [[ ${BENCH_KEEP:-} == 1 ]]; then
		echo "bench: scratch files kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------- helpers

# ensure_tools installs vips, nginx, wrk (and time, curl, python3) from Debian packages
# when they are missing.
ensure_tools() {
	local need=()
	command -v vips >/dev/null || need+=(libvips-tools)
	command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx)
	command -v wrk >/dev/null || need+=(wrk)
	[[ -x /usr/bin/time ]] || need+=(time)
	command -v curl >/dev/null || need+=(curl)
	command -v python3 >/dev/null || need+=(python3)
	command -v gdal_translate >/dev/null || need+=(gdal-bin)
	if ((${#need[@]})); then
		log "installing ${need[*]}"
		local sudo=()
		[[ $(id -u) -eq 0 ]] || sudo=(sudo)
		"${sudo[@]}" apt-get update
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
	fi
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	command -v "$GO" >/dev/null || die "go is not installed"
}

# median prints the middle of its numeric arguments.
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

# calc evaluates an awk expression, e.g. calc '1/3' '%.2f'.
calc() { awk "BEGIN { printf \"${2:-%.2f}\", $1 }"; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL PID waits until url answers 200, as long as process pid runs.
wait_http() {
	local url=$1 pid=$2 i code=""
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || die "the server for $url exited (see bench/out/logs)"
		code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
		[[ $code == 200 ]] && return 0
		sleep 0.1
	done
	die "$url did not answer 200 in 20 s (last: $code)"
}

# json FIELD.PATH reads one value from the JSON document on stdin.
json() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}

# kv KEY FILE prints the value of a key=value line.
kv() { sed -n "s/^$1=//p" "$2" | tail -n 1; }

# busy_before NAME samples for one second how busy the CPUs are while the benchmark
# itself is idle, i.e. what other processes use; other work on the machine (tests,
# builds) skews every number, so the report shows it.
BUSY=()
BUSY_MAX=0
busy_before() {
	local a b
	read -ra a < <(sed -n "s/^cpu  //p" /proc/stat)
	sleep 1
	read -ra b < <(sed -n "s/^cpu  //p" /proc/stat)
	# fields: user nice system idle iowait irq softirq steal ...
	local total=0 idle i
	for i in 0 1 2 3 4 5 6 7; do total=$((total + b[i] - a[i])); done
	idle=$((b[3] - a[3] + b[4] - a[4]))
	local pct=$(((100 * (total - idle) + total / 2) / total))
	BUSY+=("$1 $pct%")
	((pct <= BUSY_MAX)) || BUSY_MAX=$pct
}

# ------------------------------------------------------------------ 1. pyramid build

# make_inputs generates the benchmark's images into bench/out the first time: the JPEG,
# and from it the two GeoTIFFs, tiled 512×512 (the COG default) and deflated: 8-bit RGB,
# and 16-bit with four bands (red, green, blue and band 1 again as a stand-in for near
# infrared), the values scaled to 0–4000 as in 12-bit sensor data; and an 8-bit RGB PNG
# (GDAL's default zlib level 6, about 80 s to write).
make_inputs() {
	if [[ ! -f $IMAGE ]]; then
		log "generating $IMAGE"
		"$GO" run ./bench/landcover -size "$SIZE" -quality 85 -out "$IMAGE"
	fi
	local tiff=(-q -of GTiff -co TILED=YES -co BLOCKXSIZE=512 -co BLOCKYSIZE=512 -co COMPRESS=DEFLATE)
	if [[ ! -f $TIFF8 ]]; then
		log "generating $TIFF8"
		GDAL_PAM_ENABLED=NO gdal_translate "${tiff[@]}" -co PHOTOMETRIC=RGB "$IMAGE" "$TIFF8.part"
		mv "$TIFF8.part" "$TIFF8"
	fi
	if [[ ! -f $TIFF16 ]]; then
		log "generating $TIFF16"
		GDAL_PAM_ENABLED=NO gdal_translate "${tiff[@]}" -ot UInt16 -scale 0 255 0 4000 -b 1 -b 2 -b 3 -b 1 \
			-colorinterp red,green,blue,undefined "$IMAGE" "$TIFF16.part"
		mv "$TIFF16.part" "$TIFF16"
	fi
	local cog=(-q -of COG -co BLOCKSIZE=512 -co OVERVIEWS=IGNORE_EXISTING)
	if [[ ! -f $COGJPEG ]]; then
		log "generating $COGJPEG"
		GDAL_PAM_ENABLED=NO gdal_translate "${cog[@]}" -co COMPRESS=JPEG -co QUALITY=85 "$IMAGE" "$COGJPEG.part"
		mv "$COGJPEG.part" "$COGJPEG"
	fi
	if [[ ! -f $COG16 ]]; then
		log "generating $COG16"
		GDAL_PAM_ENABLED=NO gdal_translate "${cog[@]}" -co COMPRESS=DEFLATE "$TIFF16" "$COG16.part"
		mv "$COG16.part" "$COG16"
	fi
	if [[ ! -f $PNG8 ]]; then
		log "generating $PNG8"
		GDAL_PAM_ENABLED=NO gdal_translate -q -of PNG "$IMAGE" "$PNG8.part"
		mv "$PNG8.part" "$PNG8"
	fi
	[[ $LARGE == 1 ]] || return 0
	if [[ ! -f $LJPEG ]]; then
		log "generating $LJPEG"
		"$GO" run ./bench/landcover -size "$LSIZE" -quality 85 -out "$LJPEG"
	fi
	if [[ ! -f $LTIFF8 ]]; then
		log "generating $LTIFF8"
		GDAL_PAM_ENABLED=NO gdal_translate "${tiff[@]}" -co PHOTOMETRIC=RGB -co BIGTIFF=IF_SAFER "$LJPEG" "$LTIFF8.part"
		mv "$LTIFF8.part" "$LTIFF8"
	fi
}

# pyramid_case KEY FILE builds the pyramid of FILE with both tools, RUNS times each, and
# sets PYR_KEY_{SM,VIPS}_{WALL,RSS,CPU}, PYR_KEY_SM_BUILD and PYR_KEY_TILES_VIPS. vips'
# last output stays in $WORK/vips-KEY.
pyramid_case() {
	local key=$1 file=$2 runs=${3:-$RUNS}
	log "1. pyramid build of $file, $runs runs each"
	cat "$file" >/dev/null # warm page cache for both tools (dropping caches needs root)
	local i wall rss usr sys sm_wall=() sm_rss=() sm_cpu=() sm_build=() vips_wall=() vips_rss=() vips_cpu=()
	for ((i = 1; i <= runs; i++)); do
		# Runs alternate, so drift over the run affects both tools alike; sync first so
		# one run's write-back does not land in the next one's time.
		rm -rf "$WORK/satmark-lib"
		sync
		/usr/bin/time -f '%e %M %U %S' -o "$WORK/time.txt" \
			"$WORK/bin/pyramid" -in "$file" -data "$WORK/satmark-lib" >"$WORK/pyramid.txt"
		read -r wall rss usr sys <"$WORK/time.txt"
		sm_wall+=("$wall") sm_rss+=("$rss") sm_cpu+=("$(calc "$usr + $sys" %.1f)")
		# bench/pyramid prints "built N tiles of W×H in S s" (the build alone, without
		# storing the original first)
		sm_build+=("$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' "$WORK/pyramid.txt")")
		echo "$key satmark run $i: ${wall} s, ${rss} KiB, CPU ${sm_cpu[-1]} s ($(cat "$WORK/pyramid.txt"))" | tee -a "$LOGS/pyramid.log" >&2

		rm -rf "$WORK/vips-$key"
		sync
		# (vips warns of the GDAL metadata tag it does not know in the TIFFs: dropped)
		/usr/bin/time -f '%e %M %U %S' -o "$WORK/time.txt" \
			vips dzsave "$file" "$WORK/vips-$key" --layout iiif3 --tile-size 256 --suffix '.jpg[Q=85]' 2>>"$LOGS/vips.log"
		read -r wall rss usr sys <"$WORK/time.txt"
		vips_wall+=("$wall") vips_rss+=("$rss") vips_cpu+=("$(calc "$usr + $sys" %.1f)")
		echo "$key vips    run $i: ${wall} s, ${rss} KiB, CPU ${vips_cpu[-1]} s" | tee -a "$LOGS/pyramid.log" >&2
	done
	rm -rf "$WORK/satmark-lib"
	printf -v "PYR_${key}_SM_WALL" '%s' "$(median "${sm_wall[@]}")"
	printf -v "PYR_${key}_SM_BUILD" '%s' "$(median "${sm_build[@]}")"
	printf -v "PYR_${key}_SM_RSS" '%s' "$(calc "$(median "${sm_rss[@]}") / 1024" '%.0f')"
	printf -v "PYR_${key}_SM_CPU" '%s' "$(median "${sm_cpu[@]}")"
	printf -v "PYR_${key}_VIPS_WALL" '%s' "$(median "${vips_wall[@]}")"
	printf -v "PYR_${key}_VIPS_RSS" '%s' "$(calc "$(median "${vips_rss[@]}") / 1024" '%.0f')"
	printf -v "PYR_${key}_VIPS_CPU" '%s' "$(median "${vips_cpu[@]}")"
	printf -v "PYR_${key}_TILES_VIPS" '%s' "$(find "$WORK/vips-$key" -name '*.jpg' | wc -l)"
}

part_pyramid() {
	make_inputs
	"$GO" build -o "$WORK/bin/pyramid" ./bench/pyramid
	: >"$LOGS/pyramid.log"
	: >"$LOGS/vips.log"
	busy_before pyramid
	pyramid_case JPEG "$IMAGE"
	mv "$WORK/vips-JPEG" "$WORK/vips" # nginx serves it in part 2
	pyramid_case TIFF8 "$TIFF8"
	rm -rf "$WORK/vips-TIFF8"
	pyramid_case TIFF16 "$TIFF16"
	rm -rf "$WORK/vips-TIFF16"
	pyramid_case PNG "$PNG8"
	rm -rf "$WORK/vips-PNG"
	pyramid_case COGJPEG "$COGJPEG"
	rm -rf "$WORK/vips-COGJPEG"
	if [[ $LARGE == 1 ]]; then
		pyramid_case LJPEG "$LJPEG" 1
		rm -rf "$WORK/vips-LJPEG"
		pyramid_case LTIFF8 "$LTIFF8" 1
		rm -rf "$WORK/vips-LTIFF8"
	fi
	part_stretch
}

# stretch_case KEY FILE times satmark's default display of FILE (bench/pyramid -display)
# and gdalinfo -approx_stats on it, RUNS times each, and sets STR_KEY_{SM,GDAL} (medians,
# seconds) and STR_KEY_METHOD (what satmark sampled).
stretch_case() {
	local key=$1 file=$2 i sm=() gd=() wall
	log "1b. default display of $file, $RUNS runs each"
	cat "$file" >/dev/null
	for ((i = 1; i <= RUNS; i++)); do
		rm -rf "$WORK/satmark-lib"
		"$WORK/bin/pyramid" -display -in "$file" -data "$WORK/satmark-lib" >"$WORK/display.txt"
		sm+=("$(sed -n 's/.* in \([0-9.]*\) s:.*/\1/p' "$WORK/display.txt")")
		echo "$key satmark run $i: $(cat "$WORK/display.txt")" | tee -a "$LOGS/stretch.log" >&2
		# (no .aux.xml: the statistics are computed each time, not read back)
		/usr/bin/time -f '%e' -o "$WORK/time.txt" env GDAL_PAM_ENABLED=NO gdalinfo -approx_stats "$file" >/dev/null
		wall=$(cat "$WORK/time.txt")
		gd+=("$wall")
		echo "$key gdalinfo -approx_stats run $i: $wall s" | tee -a "$LOGS/stretch.log" >&2
	done
	rm -rf "$WORK/satmark-lib"
	printf -v "STR_${key}_SM" '%s' "$(median "${sm[@]}")"
	printf -v "STR_${key}_GDAL" '%s' "$(median "${gd[@]}")"
	printf -v "STR_${key}_METHOD" '%s' "$(sed -n 's/.*: bands [^,]*, //p' "$WORK/display.txt")"
}

part_stretch() {
	: >"$LOGS/stretch.log"
	stretch_case TIFF16 "$TIFF16"
	stretch_case COG16 "$COG16"
}

# ------------------------------------------------------------------- 2. tile serving

# start_satmark serves a new data folder with one analyst, "bench", whose API token
# every request carries (BENCH_AUTH, also read by iiifurls and urls.lua).
start_satmark() {
	SM_PORT=$(free_port)
	mkdir -p "$WORK/data"
	printf 'bench password\n' | "$ROOT/bin/satmark" user add bench --role analyst --password-stdin --data "$WORK/data" >/dev/null
	BENCH_AUTH="Bearer $("$ROOT/bin/satmark" token create bench --data "$WORK/data" 2>/dev/null)"
	export BENCH_AUTH
	"$ROOT/bin/satmark" serve --addr "127.0.0.1:$SM_PORT" --data "$WORK/data" >"$LOGS/satmark.log" 2>&1 &
	SM_PID=$!
	SM=http://127.0.0.1:$SM_PORT
	wait_http "$SM/api/v1/health" "$SM_PID"
}

# upload_image posts the big JPEG and waits until satmark has built its pyramid.
upload_image() {
	local t0 resp state i
	t0=$(date +%s.%N)
	resp=$(curl -sS --fail-with-body -H "Authorization: $BENCH_AUTH" -F "file=@$IMAGE;type=image/jpeg" \
		-F "title=landcover $SIZE (bench)" -F "publisher=satmark bench" "$SM/api/v1/images") || die "upload failed: $resp"
	IMAGE_ID=$(json id <<<"$resp")
	IMG_W=$(json width <<<"$resp")
	IMG_H=$(json height <<<"$resp")
	for ((i = 0; i < 1200; i++)); do
		resp=$(curl -sS --fail-with-body -H "Authorization: $BENCH_AUTH" "$SM/api/v1/images/$IMAGE_ID") || die "GET image: $resp"
		state=$(json pyramid.state <<<"$resp")
		case $state in
		done) break ;;
		failed) die "satmark's pyramid build failed: $(json pyramid.error <<<"$resp")" ;;
		esac
		sleep 0.5
	done
	[[ $state == done ]] || die "satmark's pyramid was not built after 10 minutes (state $state)"
	SERVE_BUILD_S=$(calc "$(date +%s.%N) - $t0" '%.1f')
	echo "uploaded $IMAGE_ID (${IMG_W}×${IMG_H}); pyramid done ${SERVE_BUILD_S} s after the upload began" >&2
}

# start_nginx serves vips' tile folder with a minimal configuration of its own.
start_nginx() {
	local ng=$WORK/nginx user_line=""
	mkdir -p "$ng/tmp"
	NG_PORT=$(free_port)
	# As root, nginx's workers would switch to nobody, who cannot enter the scratch
	# folder (mktemp makes it 0700): keep them the current user.
	[[ $(id -u) -eq 0 ]] && user_line="user root;"
	cat >"$ng/nginx.conf" <<-EOF
		$user_line
		worker_processes 2;
		daemon off;
		pid $ng/nginx.pid;
		error_log $ng/error.log warn;
		events { worker_connections 1024; }
		http {
		    types { image/jpeg jpg; application/json json; }
		    default_type application/octet-stream;
		    sendfile on;
		    access_log off;
		    client_body_temp_path $ng/tmp/body;
		    proxy_temp_path $ng/tmp/proxy;
		    fastcgi_temp_path $ng/tmp/fastcgi;
		    uwsgi_temp_path $ng/tmp/uwsgi;
		    scgi_temp_path $ng/tmp/scgi;
		    server {
		        listen 127.0.0.1:$NG_PORT;
		        root $WORK/vips;
		    }
		}
	EOF
	"$NGINX" -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf" &
	NG_PID=$!
	NG=http://127.0.0.1:$NG_PORT
	wait_http "$NG/info.json" "$NG_PID"
}

# wrk_run NAME URL CONNECTIONS LIST [STATUS] runs wrk over a path list and keeps its
# output in $LOGS/wrk-NAME.txt.
wrk_run() {
	local name=$1 url=$2 conns=$3 list=$4 status=${5:-0}
	BENCH_URLS=$list BENCH_THREADS=2 BENCH_STATUS=$status \
		wrk -t2 -c"$conns" -d"$DURATION" --latency -s "$ROOT/bench/urls.lua" "$url" >"$LOGS/wrk-$name.txt" 2>&1 ||
		{ cat "$LOGS/wrk-$name.txt" >&2; die "wrk $name failed"; }
	grep -E 'Requests/sec|Latency  |99%|Non-2xx|Socket errors' "$LOGS/wrk-$name.txt" | sed "s/^/  $name: /" >&2
}

part_tiles() {
	log "2. tile serving: satmark vs nginx over vips' tiles"
	start_satmark
	upload_image
	start_nginx

	# The tile list; fetching every tile once from both servers is the warm-up pass.
	"$WORK/bin/iiifurls" tiles -width "$IMG_W" -height "$IMG_H" -vips "$WORK/vips" \
		-satmark "$SM/iiif/3/$IMAGE_ID/" -nginx "$NG/" -out "$WORK/tiles.txt" -compare 20 \
		>"$LOGS/tiles-check.txt"
	cat "$LOGS/tiles-check.txt" >&2
	TILES=$(kv tiles_listed "$LOGS/tiles-check.txt")
	((TILES >= 2000)) || die "only $TILES tile paths answer 200 from both satmark and nginx (need 2000)"

	busy_before tiles
	# A short run each first, so both start warm (connections, Go's heap, CPU caches).
	wrk_run warm-nginx "$NG/" 32 "$WORK/tiles.txt" >/dev/null 2>&1
	wrk_run warm-satmark "$SM/iiif/3/$IMAGE_ID/" 32 "$WORK/tiles.txt" >/dev/null 2>&1
	wrk_run tiles-nginx "$NG/" 32 "$WORK/tiles.txt"
	wrk_run tiles-satmark "$SM/iiif/3/$IMAGE_ID/" 32 "$WORK/tiles.txt"

	local f
	for who in nginx satmark; do
		f=$LOGS/wrk-tiles-$who.txt
		printf -v "T_${who}_RPS" '%s' "$(kv bench_rps "$f")"
		printf -v "T_${who}_P50" '%s' "$(kv bench_p50_ms "$f")"
		printf -v "T_${who}_P99" '%s' "$(kv bench_p99_ms "$f")"
		printf -v "T_${who}_BAD" '%s' "$(($(kv bench_non2xx3xx "$f") + $(kv bench_socket_errors "$f")))"
	done
}

# ------------------------------------------------------------ 3. uncached renders

part_renders() {
	log "3. uncached non-tile renders (satmark only)"
	"$WORK/bin/iiifurls" renders -width "$IMG_W" -height "$IMG_H" -n 20000 -out "$WORK/renders.txt"
	busy_before renders
	wrk_run renders-satmark "$SM/iiif/3/$IMAGE_ID/" 8 "$WORK/renders.txt" 1
	local f=$LOGS/wrk-renders-satmark.txt
	R_OK=$(kv bench_2xx "$f")
	R_503=$(kv bench_503 "$f")
	R_OTHER=$(kv bench_other "$f")
	R_SOCK=$(kv bench_socket_errors "$f")
	R_WRAPPED=$(kv bench_wrapped "$f")
	R_RPS=$(calc "$R_OK / $(kv bench_duration_s "$f")" '%.1f')
	R_P50=$(kv bench_p50_ms "$f")
	R_P99=$(kv bench_p99_ms "$f")
	# Check the part itself worked: renders answered and none came twice.
	((R_OK > 0)) || die "no render answered 2xx (see $f)"
	[[ $R_WRAPPED == no ]] || echo "bench: the render list ran out; some renders were repeats" >&2
}

# ------------------------------------------------------------------------ the table

report() {
	local cpus
	tc() { kv "$1" "$LOGS/tiles-check.txt"; }
	cpus=$(nproc)
	# verdict VALUE OP LIMIT prints whether a goal is met.
	verdict() { awk -v v="$1" -v l="$3" "BEGIN { print ((v $2 l) ? \"met\" : \"MISSED\") }"; }
	local r_rps r_p50 r_p99
	if [[ $ONLY != pyramid ]]; then
		r_rps=$(calc "$T_satmark_RPS / $T_nginx_RPS")
		r_p50=$(calc "$T_satmark_P50 / $T_nginx_P50")
		r_p99=$(calc "$T_satmark_P99 / $T_nginx_P99")
	fi
	# pyr KEY FIELD prints PYR_KEY_FIELD.
	pyr() { local v="PYR_$1_$2"; printf '%s' "${!v}"; }
	# str KEY FIELD prints STR_KEY_FIELD.
	str() { local v="STR_$1_$2"; printf '%s' "${!v}"; }
	{
		echo "satmark bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $cpus CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'))"
		echo "$(vips --version), nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $("$GO" version | cut -d' ' -f3)"
		local f
		local inputs=("$IMAGE" "$TIFF8" "$TIFF16" "$PNG8" "$COGJPEG" "$COG16") keys=(JPEG TIFF8 TIFF16 PNG COGJPEG)
		[[ $LARGE != 1 ]] || inputs+=("$LJPEG" "$LTIFF8") keys+=(LJPEG LTIFF8)
		for f in "${inputs[@]}"; do
			echo "input: $(basename "$f") ($(calc "$(stat -c %s "$f") / 1048576" '%.1f') MiB)"
		done
		echo "pyramid medians of $RUNS runs (the 40000² cases: one run); wrk -t2, $DURATION"
		echo
		# (the last column holds the non-ASCII signs: printf pads by bytes)
		local row='%-30s %-10s %-15s %-7s %s\n' key name goal r
		printf "$row" what satmark peer ratio goal
		for key in "${keys[@]}"; do
			case $key in
			JPEG) name="JPEG" goal=0.35 ;;
			TIFF8) name="TIFF 8-bit" goal=1.0 ;;
			TIFF16) name="TIFF 16-bit" goal=1.0 ;;
			PNG) name="PNG" goal=1.0 ;;
			COGJPEG) name="COG JPEG" goal=1.0 ;;
			LJPEG) name="JPEG 40000²" goal=0.35 ;;
			LTIFF8) name="TIFF 8-bit 40000²" goal=1.0 ;;
			esac
			r=$(calc "$(pyr $key SM_WALL) / $(pyr $key VIPS_WALL)")
			printf "$row" "pyramid $name wall (s)" "$(pyr $key SM_WALL)" "vips $(pyr $key VIPS_WALL)" "$r" "$(printf '%-13s' "≤ $goal")$(verdict "$r" '<=' "$goal")"
			r=$(calc "$(pyr $key SM_RSS) / $(pyr $key VIPS_RSS)")
			printf "$row" "pyramid $name RSS (MiB)" "$(pyr $key SM_RSS)" "vips $(pyr $key VIPS_RSS)" "$r" "< 700 MiB  $(verdict "$(pyr $key SM_RSS)" '<' 700)"
		done
		for key in TIFF16 COG16; do
			r=$(calc "$(str $key SM) / $(str $key GDAL)")
			printf "$row" "stretch $key (s)" "$(str $key SM)" "gdalinfo $(str $key GDAL)" "$r" "≤ 1.0      $(verdict "$r" '<=' 1.0)"
		done
		if [[ $ONLY != pyramid ]]; then
			printf "$row" "tile req/s (c32)" "$(calc "$T_satmark_RPS" '%.0f')" "nginx $(calc "$T_nginx_RPS" '%.0f')" "$r_rps" "≥ 0.7      $(verdict "$r_rps" '>=' 0.7)"
			printf "$row" "tile p50 (ms)" "$T_satmark_P50" "nginx $T_nginx_P50" "$r_p50" ""
			printf "$row" "tile p99 (ms)" "$T_satmark_P99" "nginx $T_nginx_P99" "$r_p99" "≤ 2.0      $(verdict "$r_p99" '<=' 2.0)"
			printf "$row" "render req/s (uncached, c8)" "$R_RPS" "" "" "—"
			printf "$row" "render p50 (ms)" "$R_P50" "" "" "—"
			printf "$row" "render p99 (ms)" "$R_P99" "" "" "—"
		fi
		echo
		for key in "${keys[@]}"; do
			echo "pyramid $key: CPU s (user+sys) satmark $(pyr $key SM_CPU), vips $(pyr $key VIPS_CPU); satmark's build alone" \
				"$(pyr $key SM_BUILD) s; vips wrote $(pyr $key TILES_VIPS) tiles"
		done
		echo "         (bench/pyramid's wall also stores the original first: a copy and a SHA-256 of the file)"
		echo "         The 16-bit TIFF: satmark shows it through its 2–98 % percentile stretch; vips reads it as"
		echo "         rgb16 with band 4 as alpha and writes 8-bit JPEG tiles by casting (÷256) and flattening"
		echo "         the alpha, not by a stretch (near-black tiles): it is the peer for wall time and memory,"
		echo "         not for pixels."
		echo "stretch: satmark's default display (bands, 2–98 % percentile per band), timed inside bench/pyramid -display;"
		echo "         gdalinfo -approx_stats (min/max/mean/stddev per band, all four bands) timed as a process."
		echo "         TIFF16 sampled $(str TIFF16 METHOD)"
		echo "         COG16  sampled $(str COG16 METHOD)"
		[[ $ONLY == pyramid ]] || report_serving
		echo "CPUs busy with other work just before each part: ${BUSY[*]}"
		((BUSY_MAX <= 10)) || echo "WARNING: other processes were using the CPUs ($BUSY_MAX %): these numbers are not reliable"
	} | tee "$OUT/results.txt"
}

# report_serving prints the notes of parts 2 and 3.
report_serving() {
	local sm_errors
	sm_errors=$(grep -c 'level=ERROR' "$LOGS/satmark.log" || true)
	echo "         in the server, upload of the JPEG to pyramid done took ${SERVE_BUILD_S} s"
	echo "tiles:   $TILES distinct paths used (of $(tc tiles_generated) computed, $(tc tiles_in_vips) in vips' folder; not 200 in"
	echo "         the warm-up pass: satmark $(tc tiles_satmark_not_200), nginx $(tc tiles_nginx_not_200)); errors under load: satmark $T_satmark_BAD, nginx $T_nginx_BAD"
	echo "         $(tc compared) tiles vs vips: md5-identical $(tc md5_identical), identical but for APPn metadata" \
		"$(tc identical_without_app_markers), pixel-identical $(tc pixel_identical) (max |Δ| $(tc max_pixel_diff))"
	echo "renders: $R_OK answered 2xx, $R_503 × 503 (busy), $R_OTHER other statuses, $R_SOCK socket errors;"
	echo "         $(wc -l <"$WORK/renders.txt") distinct requests listed, list ran out (repeats possible): $R_WRAPPED"
	echo "satmark log: $sm_errors ERROR lines (bench/out/logs/satmark.log)"
	((T_satmark_BAD + R_OTHER + sm_errors == 0)) || echo "ANOMALY: satmark errors above; see bench/out/logs"
}

# ---------------------------------------------------------------------------- main

main() {
	local t0=$SECONDS
	ensure_tools
	mkdir -p "$WORK/bin"
	if [[ $ONLY == pyramid ]]; then
		part_pyramid
	else
		[[ -x $ROOT/bin/satmark ]] || die "bin/satmark is missing: run make bench (it builds first)"
		"$GO" build -o "$WORK/bin/iiifurls" ./bench/iiifurls
		part_pyramid
		part_tiles
		part_renders
	fi
	echo
	report
	echo "(bench took $((SECONDS - t0)) s; logs in bench/out/logs, table in bench/out/results.txt)"
}

main "$@"
