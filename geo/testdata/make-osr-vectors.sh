#!/bin/sh
# Regenerates osr-vectors.txt: positions converted between WGS 84 longitude/latitude and
# CRSs that satmark hands to GDAL's OSR (PROJ), by the real tools (written with PROJ 9.1.1
# and GDAL 3.6.2, Debian 12, no network: PROJ_NETWORK unset, only the grids of Debian's
# proj-data). Run from this directory: sh make-osr-vectors.sh
#
# EPSG codes go through cs2cs, .prj files through gdaltransform (-s_srs/-t_srs FILE):
#   fwd CRS lon lat x y   cs2cs -f %.12f EPSG:4326 CRS        (stdin "lat lon")
#                         gdaltransform -s_srs EPSG:4326 -t_srs FILE -output_xy (stdin "lon lat")
#   inv CRS x y lon lat   cs2cs -f %.12f CRS EPSG:4326        (stdout "lat lon")
#                         gdaltransform -s_srs FILE -t_srs EPSG:4326 -output_xy
# CRS is EPSG:<code> or the .prj's path from this directory. Every position is within 5° of
# longitude and latitude of its CRS's area of use (beyond it satmark refuses to convert). Each CRS's block starts with
# "# op CRS …": the coordinate operation PROJ reports using (PROJ_DEBUG=2), so a datum
# shift made without its grid (British National Grid: OSTN15 is not in proj-data, so PROJ
# uses the 2 m Helmert "OSGB36 to WGS 84 (6)") is on record.
set -eu
out=osr-vectors.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# op CRS LON LAT: the operation PROJ uses from WGS 84 to CRS at (LON, LAT), as cs2cs
# reports it when it chooses among several, else the only candidate projinfo lists.
op() {
	case $1 in
	EPSG:*) crs=$1 ;;
	*) crs=@$1 ;;
	esac
	used=$(echo "$3 $2" | PROJ_DEBUG=2 cs2cs EPSG:4326 "$crs" 2>&1 | sed -n 's/^Using coordinate operation //p' | head -n 1)
	if [ -z "$used" ]; then
		used=$(projinfo --summary --spatial-test intersects -s EPSG:4326 -t "$crs" 2>/dev/null | sed -n '2s/^[^,]*, //p')
	fi
	echo "# op $1 at $2 $3: $used"
}

# fwd CRS "LONS" "LATS": every lon × lat.
fwd() {
	for lat in $3; do for lon in $2; do echo "$lon $lat"; done; done >"$tmp/in"
	case $1 in
	EPSG:*)
		awk '{ print $2, $1 }' "$tmp/in" | cs2cs -f %.12f EPSG:4326 "$1" | awk '{ print $1, $2 }' >"$tmp/out"
		;;
	*)
		gdaltransform -s_srs EPSG:4326 -t_srs "$1" -output_xy <"$tmp/in" >"$tmp/out"
		;;
	esac
	paste -d ' ' "$tmp/in" "$tmp/out" | awk -v c="$1" '{ print "fwd", c, $1, $2, $3, $4 }'
}

# inv CRS "XS" "YS": every x × y.
inv() {
	for y in $3; do for x in $2; do echo "$x $y"; done; done >"$tmp/in"
	case $1 in
	EPSG:*)
		cs2cs -f %.12f "$1" EPSG:4326 <"$tmp/in" | awk '{ print $2, $1 }' >"$tmp/out"
		;;
	*)
		gdaltransform -s_srs "$1" -t_srs EPSG:4326 -output_xy <"$tmp/in" >"$tmp/out"
		;;
	esac
	paste -d ' ' "$tmp/in" "$tmp/out" | awk -v c="$1" '{ print "inv", c, $1, $2, $3, $4 }'
}

{
	echo "# Written by make-osr-vectors.sh with $(cs2cs 2>&1 | head -n 1 | sed 's/^ *//') and $(gdalinfo --version)."
	echo "# fwd CRS lon lat x y; inv CRS x y lon lat (see the script for the commands)"
	# Lambert-93 (RGF93 v1, whose transformation to WGS 84 is the identity): France and beyond.
	op EPSG:2154 2.35 48.85
	fwd EPSG:2154 "-12 -5.1 -1.5 0 2.3522 3 5.123456789 8.25 9.56 14" "38 41.3 43.6 46.5 48.8566 51.1 55"
	inv EPSG:2154 "100000 350000.5 652000 700000 900000.25 1242000" "6040000 6400000 6600000 6862048 7110000 7300000"
	# WGS 84 / UTM 52N: computed in Go by satmark, here as a cross-check of the OSR path.
	op EPSG:32652 131.85 43.14
	fwd EPSG:32652 "126 128.5 129 131.85 132" "0 33.5 43.14 60 80"
	inv EPSG:32652 "166021.4431 500000 735120.5 833978.5569" "0 4777890.25 6655000 8881585.8"
	# NSIDC polar stereographic north (WGS 84, true scale at 70° N, meridian 45° W).
	op EPSG:3413 -45 80
	fwd EPSG:3413 "-180 -135 -45 0 15.5 90 179.9" "56 60 70 78.9 85 89.99 90"
	inv EPSG:3413 "-2500000 -1000000 0 250000.5 2000000 2500000" "-2500000 -2000000 -1 0 1500000 2500000"
	# British National Grid (OSGB36: a datum shift, see the "# op" line).
	op EPSG:27700 -1.5 52
	op EPSG:27700 1.75 60.8
	fwd EPSG:27700 "-7.5 -5.7 -3.1 -1.5 0 1.75" "49.9 50.5 52 54.2 57.5 60.8"
	inv EPSG:27700 "0 100000 400000 530000.5 650000" "0 10000 300000 650000 1000000 1220000"
	# Esri WKT: Lambert-93 as ArcGIS writes it (no EPSG code in it; satmark identifies it),
	# and a local transverse Mercator no EPSG CRS matches (kept as WKT).
	op wkt/osr/esri-2154.prj 2.35 48.85
	op wkt/custom/tm-esri.prj 131.85 43.14
	fwd wkt/osr/esri-2154.prj "-1.5 2.3522 7.75" "43.6 48.8566 50.9"
	inv wkt/osr/esri-2154.prj "350000.5 652000 1000000" "6300000 6862048 7000000"
	fwd wkt/custom/tm-esri.prj "131.5 131.85 131.8833333333 132.1 133" "42.5 43.14 43.5"
	inv wkt/custom/tm-esri.prj "-10000 0 20000 21356.81 40000" "-20000 73829.39 120000"
} >"$out"
echo "wrote $(grep -c '^fwd' "$out") forward and $(grep -c '^inv' "$out") inverse vectors to $out"
grep '^# op' "$out"
