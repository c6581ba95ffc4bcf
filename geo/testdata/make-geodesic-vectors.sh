#!/usr/bin/env bash
# Regenerates the geodesic test vectors with GeographicLib's GeodSolve and
# Planimeter (GeographicLib 2.1.2, Debian geographiclib-tools) and PROJ's geod
# (PROJ 9.1.1), all on the WGS 84 ellipsoid. Run from anywhere:
# ./make-geodesic-vectors.sh
#
#   geodesic-direct.txt   lat1 lon1 azi1 s12 lat2 lon2 azi2   (GeodSolve -p 9)
#   geodesic-inverse.txt  lat1 lon1 lat2 lon2 azi1 azi2 s12   (GeodSolve -i -p 9)
#   geod-inverse.txt      lat1 lon1 lat2 lon2 az1 baz2 s12    (geod -I; baz2 is the
#                         azimuth from point 2 back to point 1, azi2 − 180)
#   polygon-area.txt      name n perimeter area lat1 lon1 lat2 lon2 …
#                         (Planimeter -p 12: counter-clockwise areas positive)
# Each line is preceded by a comment naming its kind of case.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C

# cases prints "kind lat1 lon1 azi1 s12" lines: pseudo-random starting points
# and azimuths for lines of several lengths and places.
cases() {
	awk '
	function rnd() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
	function line(kind, lat, lon, azi, s) { printf "%s %.9f %.9f %.9f %.6f\n", kind, lat, lon, azi, s }
	BEGIN {
		seed = 20240611
		for (i = 0; i < 24; i++) line("ship-10-300m", 160 * rnd() - 80, 360 * rnd() - 180, 360 * rnd() - 180, 10 + 290 * rnd())
		for (i = 0; i < 8; i++) line("ship-10-15m", 160 * rnd() - 80, 360 * rnd() - 180, 360 * rnd() - 180, 10 + 5 * rnd())
		for (i = 0; i < 12; i++) line("few-km", 160 * rnd() - 80, 360 * rnd() - 180, 360 * rnd() - 180, 1000 + 19000 * rnd())
		for (i = 0; i < 12; i++) line("hundreds-of-km", 160 * rnd() - 80, 360 * rnd() - 180, 360 * rnd() - 180, 100000 + 800000 * rnd())
		for (i = 0; i < 10; i++) line("near-pole", (i % 2 ? -1 : 1) * (89.5 + 0.499 * rnd()), 360 * rnd() - 180, 360 * rnd() - 180, 1000 + 199000 * rnd())
		for (i = 0; i < 10; i++) line("antimeridian", 140 * rnd() - 70, 179.9 + 0.0999 * rnd(), 45 + 90 * rnd(), 12000 + 20000 * rnd())
		for (i = 0; i < 6; i++) line("antimeridian", 140 * rnd() - 70, -179.9 - 0.0999 * rnd(), -45 - 90 * rnd(), 12000 + 20000 * rnd())
		for (i = 0; i < 10; i++) line("long", 160 * rnd() - 80, 360 * rnd() - 180, 360 * rnd() - 180, 1000000 + 18000000 * rnd())
		line("vladivostok", 43.1, 131.9, 0, 100)
		line("vladivostok", 43.1, 131.9, 90, 100)
		line("vladivostok", 43.1, 131.9, 225, 1000)
		line("meridian", 10, 20, 0, 6000000)
		line("equator", 0, 20, 90, 3000000)
		line("pole", 90, 0, 180, 111000)
		line("over-pole", 89.9, 10, 0, 22300)
	}'
}

# nearly_antipodal prints "kind lat1 lon1 lat2 lon2" pairs near antipodes,
# where the inverse problem is hardest.
nearly_antipodal() {
	awk '
	function rnd() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
	BEGIN {
		seed = 77
		for (i = 0; i < 12; i++) {
			lat = 120 * rnd() - 60; lon = 360 * rnd() - 180
			lon2 = lon + 179 + 1 * rnd(); if (lon2 > 180) lon2 -= 360
			printf "nearly-antipodal %.9f %.9f %.9f %.9f\n", lat, lon, -lat + 1 * rnd() - 0.5, lon2
		}
		print "nearly-antipodal 0 0 0.5 179.7"
		print "nearly-antipodal -30 0 29.9 179.8"
		print "nearly-antipodal 0 0 0 179.5"
		print "nearly-antipodal 0 0 0 180"
		print "coincident 43.1 131.9 43.1 131.9"
		print "pole-to-pole 90 0 -90 0"
	}'
}

gen=$(GeodSolve --version | head -1)
projversion=$(geod 2>&1 | head -1)

cases >/tmp/satmark-geod-cases.$$
trap 'rm -f /tmp/satmark-geod-cases.$$ /tmp/satmark-geod-pairs.$$' EXIT

{
	echo "# lat1 lon1 azi1 s12 lat2 lon2 azi2: $gen, GeodSolve -p 9 (WGS 84)"
	paste -d' ' <(cut -d' ' -f2- /tmp/satmark-geod-cases.$$) \
		<(cut -d' ' -f2- /tmp/satmark-geod-cases.$$ | GeodSolve -p 9) |
		paste -d'\n' <(awk '{ print "# " $1 }' /tmp/satmark-geod-cases.$$) -
} >geodesic-direct.txt

# Inverse pairs: the ends of the direct cases, to 9 decimals, and the nearly
# antipodal pairs.
{
	paste -d' ' <(awk '{ print $1, $2, $3 }' /tmp/satmark-geod-cases.$$) \
		<(cut -d' ' -f2- /tmp/satmark-geod-cases.$$ | GeodSolve -p 9 | awk '{ printf "%.9f %.9f\n", $1, $2 }')
	nearly_antipodal
} >/tmp/satmark-geod-pairs.$$

{
	echo "# lat1 lon1 lat2 lon2 azi1 azi2 s12: $gen, GeodSolve -i -p 9 (WGS 84)"
	paste -d' ' <(cut -d' ' -f2- /tmp/satmark-geod-pairs.$$) \
		<(cut -d' ' -f2- /tmp/satmark-geod-pairs.$$ | GeodSolve -i -p 9) |
		paste -d'\n' <(awk '{ print "# " $1 }' /tmp/satmark-geod-pairs.$$) -
} >geodesic-inverse.txt

{
	echo "# lat1 lon1 lat2 lon2 az1 baz2 s12: PROJ $projversion, geod +ellps=WGS84 -I +units=m -f %.12f -F %.9f"
	paste -d' ' <(cut -d' ' -f2- /tmp/satmark-geod-pairs.$$) \
		<(cut -d' ' -f2- /tmp/satmark-geod-pairs.$$ | geod +ellps=WGS84 -I +units=m -f %.12f -F %.9f | tr '\t' ' ') |
		paste -d'\n' <(awk '{ print "# " $1 }' /tmp/satmark-geod-pairs.$$) -
} >geod-inverse.txt

# Polygons: name, then "lat lon" vertices separated by ";".
polygons() {
	cat <<'EOF'
square-10m-vladivostok 43.1 131.9; 43.1000900 131.9; 43.1000900 131.9001230; 43.1 131.9001230
ship-outline-150m 43.11000 131.90000; 43.11010 131.90170; 43.11022 131.90180; 43.11034 131.90170; 43.11024 131.90000; 43.11012 131.89985
harbour-1ha-simonstown -34.1900 18.4350; -34.1900 18.4361; -34.1909 18.4361; -34.1909 18.4350
clockwise-1km2-norfolk 36.95 -76.33; 36.959 -76.33; 36.959 -76.3188; 36.95 -76.3188
concave-100km2 51.40 -0.10; 51.49 -0.10; 51.49 0.044; 51.445 0.0; 51.40 0.044
square-1000km2-equator -0.14 -0.14; 0.14 -0.14; 0.14 0.144; -0.14 0.144
square-1000km2-60s -60.0 20.0; -60.0 20.57; -59.715 20.57; -59.715 20.0
antimeridian-600km2-fiji -16.70 179.85; -16.70 -179.95; -16.95 -179.95; -16.95 179.85
antimeridian-1000km2 65.0 179.7; 65.0 -179.7; 65.28 -179.7; 65.28 179.7
near-pole-half-km2 89.5 0; 89.5 0.52; 89.509 0.52; 89.509 0
triangle-100m2 -12.0 45.0; -12.0 45.000183; -11.99991 45.0
EOF
}

{
	echo "# name n perimeter area lat1 lon1 …: $gen, Planimeter -p 12 (WGS 84; counter-clockwise positive)"
	polygons | while IFS= read -r line; do
		name=${line%% *}
		verts=${line#* }
		result=$(echo "$verts" | tr ';' '\n' | sed 's/^ *//' | Planimeter -p 12)
		echo "$name $result $(echo "$verts" | tr -d ';')"
	done
} >polygon-area.txt
