#!/bin/sh
# Regenerates crs-vectors.txt: positions converted between WGS 84 longitude/latitude
# (EPSG:4326) and EPSG:3857 and WGS 84 / UTM zones 52N, 31N, 60N, 19S and 56S by PROJ's
# cs2cs (written with PROJ 9.1.1; UTM there is Poder/Engsager's exact transverse
# Mercator, "etmerc"). Run from this directory: sh make-crs-vectors.sh
#
# EPSG:4326 in PROJ 9 has latitude first, so positions go to cs2cs as "lat lon" and come
# back as "lat lon"; the file stores lon lat. The commands are exactly
#   cs2cs -f %.12f EPSG:4326 EPSG:<code>   (stdin "lat lon", stdout "x y z")
#   cs2cs -f %.12f EPSG:<code> EPSG:4326   (stdin "x y",     stdout "lat lon z")
set -eu
out=crs-vectors.txt

# forward CODE CENTRAL_MERIDIAN "LATITUDES" "OFFSETS FROM THE MERIDIAN"
forward() {
	for lat in $3; do
		for d in $4; do
			awk -v c="$2" -v d="$d" -v lat="$lat" 'BEGIN {
				lon = c + d; if (lon > 180) lon -= 360; if (lon < -180) lon += 360
				printf "%s %.10f\n", lat, lon }'
		done
	done | cs2cs -f %.12f EPSG:4326 "EPSG:$1" >/tmp/cs2cs.out.$$
	for lat in $3; do
		for d in $4; do
			awk -v c="$2" -v d="$d" -v lat="$lat" 'BEGIN {
				lon = c + d; if (lon > 180) lon -= 360; if (lon < -180) lon += 360
				printf "%.10f %s\n", lon, lat }'
		done
	done | paste -d ' ' - /tmp/cs2cs.out.$$ | awk -v code="$1" '{ printf "fwd EPSG:%s %s %s %s %s\n", code, $1, $2, $3, $4 }'
	rm -f /tmp/cs2cs.out.$$
}

# inverse CODE "EASTINGS" "NORTHINGS"
inverse() {
	for y in $3; do for x in $2; do echo "$x $y"; done; done >/tmp/cs2cs.in.$$
	cs2cs -f %.12f "EPSG:$1" EPSG:4326 </tmp/cs2cs.in.$$ | paste -d ' ' /tmp/cs2cs.in.$$ - |
		awk -v code="$1" '{ printf "inv EPSG:%s %s %s %s %s\n", code, $1, $2, $4, $3 }'
	rm -f /tmp/cs2cs.in.$$
}

north_lats="0 0.5 10 23.4567891 45 60 72.123 80 84"
south_lats="0 -0.5 -10 -33.8688 -45 -60 -72.123 -80 5"
offsets="0 1.234567 -2.5 3 -3 3.5 -3.5 4 -4 6.5 -10 25 -40"
north_e="166021.4431 300000 452000.123 500000 620000 833978.5569 100000 900000"
north_n="0 1000 1107000 4778000.5 6655000 8881585.8 9329005.18"
south_n="10000000 9990000 9000000 6250000.75 5000000 3000000 1116915.04"

{
	echo "# Written by make-crs-vectors.sh with $(cs2cs 2>&1 | head -n 1 | sed 's/^ *//')."
	echo "# fwd CRS lon lat x y: cs2cs -f %.12f EPSG:4326 CRS (input lat lon)"
	echo "# inv CRS x y lon lat: cs2cs -f %.12f CRS EPSG:4326 (output lat lon)"
	forward 3857 0 "0 0.001 33.3 -45 60 80 -80 85.05 -85.0511287798" "-180 -179.999 -120.5 -3.7 0 2.3522 131.9 179.999 180"
	forward 32652 129 "$north_lats" "$offsets"
	forward 32631 3 "$north_lats" "$offsets"
	forward 32660 177 "$north_lats" "$offsets"
	forward 32719 -69 "$south_lats" "$offsets"
	forward 32756 153 "$south_lats" "$offsets"
	inverse 3857 "-20037508.342789244 -10000000 0 14677000.5 20037508.342789244" "-20037508.342789244 -15000000 -5330000 0 5330000.25 19000000 20037508.342789244"
	inverse 32652 "$north_e" "$north_n"
	inverse 32631 "$north_e" "$north_n"
	inverse 32660 "$north_e" "$north_n"
	inverse 32719 "$north_e" "$south_n"
	inverse 32756 "$north_e" "$south_n"
} >"$out"
echo "wrote $(grep -c '^fwd' "$out") forward and $(grep -c '^inv' "$out") inverse vectors to $out"

# WKT: what GDAL writes for each supported CRS (.prj texts for CRSFromWKT), the Esri
# flavour on one line as CRS.WKT writes it, and GDAL's identification of that one line
# (gdalsrsinfo -e) to show GDAL reads it back as the same EPSG code.
mkdir -p wkt/osr
: >wkt/identified.txt
for code in 4326 3857 32601 32631 32652 32660 32701 32719 32756 32760; do
	gdalsrsinfo -o wkt_esri "EPSG:$code" | sed -e 's/^ *//' | tr -d '\n' >"wkt/esri-$code.prj"
	gdalsrsinfo -o wkt1 "EPSG:$code" | sed -e '/^$/d' >"wkt/wkt1-$code.prj"
	gdalsrsinfo -o wkt2 "EPSG:$code" | sed -e '/^$/d' >"wkt/wkt2-$code.prj"
	echo "esri-$code.prj $(gdalsrsinfo -e "wkt/esri-$code.prj" | grep '^EPSG:')" >>wkt/identified.txt
done
for code in 2154 4269 3395; do
	gdalsrsinfo -o wkt_esri "EPSG:$code" | sed -e 's/^ *//' | tr -d '\n' >"wkt/osr/esri-$code.prj"
	gdalsrsinfo -o wkt1 "EPSG:$code" | sed -e '/^$/d' >"wkt/osr/wkt1-$code.prj"
done
echo "wrote $(ls wkt/*.prj wkt/osr/*.prj | wc -l) WKT files; GDAL identifies the Esri ones as:"
cat wkt/identified.txt
