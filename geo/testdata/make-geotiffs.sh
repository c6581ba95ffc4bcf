#!/bin/sh
# Regenerates the small GeoTIFFs under geotiff/ and what GDAL reads from them,
# geotiffs.txt (written with GDAL 3.6.2). Run from this directory: sh make-geotiffs.sh
# Needs gdal_create, gdal_translate, gdalinfo, gdalsrsinfo, gdaltransform, jq and python3
# (to write one broken file byte by byte).
#
# geotiffs.txt has, for each file:
#   crs FILE EPSG:n             gdalsrsinfo -e on the WKT of gdalinfo -json (the GCPs' for GCP files)
#   gt FILE gt0 … gt5           the geotransform GDAL reads, from gdal_translate -of VRT (which
#                               prints it with 17 digits; gdalinfo -json keeps only 15 decimals)
#   raw FILE gt0 … gt5          the same with GTIFF_POINT_GEO_IGNORE=TRUE (PixelIsPoint files only)
#   gdalwarning FILE            GDAL warned when it read the file
#   corner FILE px py lon lat   gdaltransform -t_srs EPSG:4326 FILE (output lon lat)
#   gcp FILE pixel line x y     gdalinfo -json .gcps.gcpList
set -eu
dir=geotiff
out=geotiffs.txt
rm -rf "$dir" && mkdir "$dir"
co="-co COMPRESS=LZW"

create() { # NAME SRS ULX ULY LRX LRY [creation options]
	name=$1 srs=$2 ulx=$3 uly=$4 lrx=$5 lry=$6
	shift 6
	gdal_create -q -of GTiff -outsize 64 48 -bands 1 -burn 7 $co "$@" -a_srs "$srs" -a_ullr "$ulx" "$uly" "$lrx" "$lry" "$dir/$name"
}
create wgs84.tif EPSG:4326 131.85 43.14 131.8516 43.13904
create utm52n.tif EPSG:32652 735120.5 4777890.25 735280.5 4777770.25
create utm56s.tif EPSG:32756 333000 6252480 333640 6252000
create webmercator.tif EPSG:3857 14677000 5330000 14677305.28 5329771.04
create lambert93.tif EPSG:2154 652000 6862048 652064 6862000
create nad83.tif EPSG:4269 -122.45 37.8 -122.4484 37.79904
create bigtiff.tif EPSG:32652 735120.5 4777890.25 735280.5 4777770.25 -co BIGTIFF=YES
create bigendian.tif EPSG:32756 333000 6252480 333640 6252000 -co ENDIANNESS=BIG
gdal_create -q -of GTiff -outsize 64 48 -bands 1 -burn 7 $co "$dir/plain.tif"

# Rotated by 30°, 2.5 m pixels: GDAL writes a ModelTransformationTag.
cat >"$dir/rotated.vrt" <<'VRT'
<VRTDataset rasterXSize="64" rasterYSize="48">
  <SRS>EPSG:32652</SRS>
  <GeoTransform>735120.5, 2.1650635094610964, 1.25, 4777890.25, 1.25, -2.1650635094610964</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1">
    <SimpleSource><SourceFilename relativeToVRT="1">plain.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
  </VRTRasterBand>
</VRTDataset>
VRT
gdal_translate -q $co "$dir/rotated.vrt" "$dir/rotated.tif"
# PixelIsPoint: GDAL stores the centre of the top-left pixel as the tiepoint.
gdal_translate -q $co -mo AREA_OR_POINT=Point "$dir/wgs84.tif" "$dir/point.tif"
gdal_translate -q $co -mo AREA_OR_POINT=Point "$dir/rotated.vrt" "$dir/rotated-point.tif"
rm "$dir/rotated.vrt"
# Control points only (the §3.5 GCPs of standards.md, scaled to 64 × 48 pixels).
gcps="-gcp 3.2 2.4 131.85517 43.13683 -gcp 60.8 4 131.94524 43.13198 -gcp 62.4 45.6 131.95036 43.07989 -gcp 2.4 44 131.85648 43.08487 -gcp 32 24 131.90151 43.10838"
gdal_translate -q $co -a_srs EPSG:4326 $gcps "$dir/plain.tif" "$dir/gcps.tif"
gdal_translate -q $co -a_srs EPSG:4326 $gcps -mo AREA_OR_POINT=Point "$dir/plain.tif" "$dir/gcps-point.tif"
gdal_translate -q $co -a_srs EPSG:32652 -gcp 0 0 735120.5 4777890.25 -gcp 64 0 735280.5 4777890.25 -gcp 64 48 735280.5 4777770.25 "$dir/plain.tif" "$dir/gcps-utm52n.tif"
# A negative y pixel scale, which GDAL reads as north-up with a warning.
python3 - "$dir/utm52n.tif" "$dir/negative-scale-y.tif" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
assert data[:4] == b"II*\0"
ifd = struct.unpack_from("<I", data, 4)[0]
for i in range(struct.unpack_from("<H", data, ifd)[0]):
    tag, typ, count, at = struct.unpack_from("<HHII", data, ifd + 2 + 12 * i)
    if tag == 33550:  # ModelPixelScaleTag: negate ScaleY
        struct.pack_into("<d", data, at + 8, -struct.unpack_from("<d", data, at + 8)[0])
open(sys.argv[2], "wb").write(data)
PY
rm -f "$dir"/*.aux.xml

# gt FILE [environment]: the geotransform GDAL reads, at full precision.
gt() {
	env "$@" gdal_translate -q -of VRT "$f" /vsistdout/ 2>/dev/null |
		sed -n 's:.*<GeoTransform>\(.*\)</GeoTransform>.*:\1:p' | tr -d ' ' | tr ',' ' '
}

{
	echo "# Written by make-geotiffs.sh with $(gdalinfo --version)."
	for f in "$dir"/*.tif; do
		name=${f#"$dir"/}
		json=$(gdalinfo -json "$f" 2>/dev/null)
		if gdalinfo "$f" 2>&1 >/dev/null | grep -q Warning; then
			echo "gdalwarning $name"
		fi
		wkt=$(printf "%s\n" "$json" | jq -r '(.coordinateSystem.wkt // .gcps.coordinateSystem.wkt // "")')
		if [ -n "$wkt" ]; then
			echo "crs $name $(gdalsrsinfo -e "$wkt" | grep '^EPSG:' || echo unknown)"
		fi
		if printf "%s\n" "$json" | jq -e '.geoTransform' >/dev/null; then
			echo "gt $name $(gt)"
			if printf "%s\n" "$json" | jq -e '.metadata[""].AREA_OR_POINT == "Point"' >/dev/null; then
				echo "raw $name $(gt GTIFF_POINT_GEO_IGNORE=TRUE)"
			fi
			if [ -n "$wkt" ]; then
				printf '0 0\n64 0\n64 48\n0 48\n32 24\n0.5 0.5\n' >/tmp/corners.$$
				gdaltransform -t_srs EPSG:4326 "$f" 2>/dev/null </tmp/corners.$$ | paste -d ' ' /tmp/corners.$$ - |
					awk -v f="$name" '{ print "corner", f, $1, $2, $3, $4 }'
				rm /tmp/corners.$$
			fi
		fi
		printf "%s\n" "$json" | jq -r --arg f "$name" '.gcps.gcpList[]? | "gcp \($f) \(.pixel) \(.line) \(.x) \(.y)"'
	done
} >"$out"
echo "wrote $(ls "$dir"/*.tif | wc -l) GeoTIFFs ($(du -ch "$dir"/*.tif | tail -n 1 | cut -f 1)) and $(grep -vc '^#' "$out") lines to $out"
