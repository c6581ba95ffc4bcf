#!/bin/sh
# Regenerates the small rasters under osr-raster/ (GeoTIFFs, and PNGs with a world file and
# a .prj) in CRSs satmark converts through GDAL's OSR, and what GDAL makes of them,
# osr-rasters.txt (written with GDAL 3.6.2 and PROJ 9.1.1, Debian 12, no network grids).
# Run from this directory: sh make-osr-rasters.sh
#
# The rasters, 64 × 48 pixels, from plain.tif (geotiff/):
#   lambert93.tif  gdal_translate -a_srs EPSG:2154 -a_ullr 652000 6862048 652640 6861568 (Paris, 10 m)
#   bng.tif        gdal_translate -a_srs EPSG:27700 -a_ullr 530000 180480 530320 180240 (London, 5 m)
#   polar.tif      gdalwarp -t_srs EPSG:3413 -ts 64 48 of a lon/lat raster over Greenland
#   utm52n.tif     gdalwarp -t_srs EPSG:32652 -ts 64 48 of a lon/lat raster at Vladivostok
#   custom-tm.tif  gdal_translate -a_srs wkt/custom/tm-esri.prj (a CRS with no EPSG code:
#                  GDAL writes it as user-defined GeoKeys)
#   lambert93.png + .wld + .prj   gdal_translate -of PNG -co WORLDFILE=YES of lambert93.tif,
#                  the .prj Esri's Lambert-93 (wkt/osr/esri-2154.prj)
#   custom-tm.png + .wld + .prj   the same of a raster in wkt/custom/tm-esri.prj, with it as .prj
#
# osr-rasters.txt has, for each:
#   crs FILE EPSG:n|unknown     gdalsrsinfo -e of the CRS GDAL reads (the .prj for a PNG);
#                               unknown when no EPSG CRS is equivalent
#   gt FILE gt0 … gt5           the geotransform GDAL reads (gdal_translate -of VRT, 17 digits)
#   corner FILE px py lon lat   gdaltransform -t_srs EPSG:4326 FILE of the pixel corners and
#                               centre (a PNG: -s_srs FILE.prj on its geotransform's positions)
#   ogr FILE px py lon lat      ogr2ogr -s_srs CRS -t_srs EPSG:4326 of the CRS position of
#                               pixel (px, py) (a CSV of points, GEOMETRY=AS_XY): the vertices
#                               of the test annotation, a quadrilateral and a point
set -eu
dir=osr-raster
out=osr-rasters.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$dir" && mkdir "$dir"
co="-co COMPRESS=LZW"
plain=geotiff/plain.tif

gdal_translate -q $co -a_srs EPSG:2154 -a_ullr 652000 6862048 652640 6861568 "$plain" "$dir/lambert93.tif"
gdal_translate -q $co -a_srs EPSG:27700 -a_ullr 530000 180480 530320 180240 "$plain" "$dir/bng.tif"
gdal_translate -q -a_srs EPSG:4326 -a_ullr -45 72.01 -44.96 72 "$plain" "$tmp/greenland.tif"
gdalwarp -q $co -t_srs EPSG:3413 -ts 64 48 "$tmp/greenland.tif" "$dir/polar.tif"
gdal_translate -q -a_srs EPSG:4326 -a_ullr 131.85 43.14 131.8516 43.13904 "$plain" "$tmp/vladivostok.tif"
gdalwarp -q $co -t_srs EPSG:32652 -ts 64 48 "$tmp/vladivostok.tif" "$dir/utm52n.tif"
gdal_translate -q $co -a_srs wkt/custom/tm-esri.prj -a_ullr 19000 74000 19640 73520 "$plain" "$dir/custom-tm.tif"
gdal_translate -q -of PNG -co WORLDFILE=YES "$dir/lambert93.tif" "$dir/lambert93.png"
cp wkt/osr/esri-2154.prj "$dir/lambert93.prj"
gdal_translate -q -of PNG -co WORLDFILE=YES "$dir/custom-tm.tif" "$dir/custom-tm.png"
cp wkt/custom/tm-esri.prj "$dir/custom-tm.prj"
rm -f "$dir"/*.aux.xml

# The pixel corners and centre, and the test annotation's vertices.
printf '0 0\n64 0\n64 48\n0 48\n32 24\n' >"$tmp/corners"
printf '8 6\n56 10\n40 42\n5.5 30.25\n33.3 17.7\n' >"$tmp/vertices"

# crs_of FILE: the CRS GDAL reads, as an argument for -s_srs.
crs_of() {
	case $1 in
	*.png) echo "${1%.png}.prj" ;;
	*) gdalinfo -json "$1" | jq -r '.coordinateSystem.wkt' >"$tmp/crs.wkt" && echo "$tmp/crs.wkt" ;;
	esac
}

{
	echo "# Written by make-osr-rasters.sh with $(gdalinfo --version) and $(cs2cs 2>&1 | head -n 1 | sed 's/^ *//')."
	for f in "$dir"/*.tif "$dir"/*.png; do
		name=${f#"$dir"/}
		srs=$(crs_of "$f")
		# gdalsrsinfo -e names its best guess after "Confidence in this match: N %" when
		# no EPSG CRS is equivalent: that is no EPSG code.
		ident=$(gdalsrsinfo -e "$srs" 2>/dev/null)
		case $ident in
		*Confidence*) echo "crs $name unknown" ;;
		*) echo "crs $name $(printf '%s\n' "$ident" | grep '^EPSG:' | head -n 1)" ;;
		esac
		gt=$(gdal_translate -q -of VRT "$f" /vsistdout/ | sed -n 's:.*<GeoTransform>\(.*\)</GeoTransform>.*:\1:p' | tr -d ' ' | tr ',' ' ')
		rm -f "$f.aux.xml"
		echo "gt $name $gt"
		# position FILE < pixels: the CRS positions of pixels by the geotransform.
		position() { awk -v gt="$gt" 'BEGIN { split(gt, g, " ") } { printf "%.12f %.12f\n", g[1] + $1*g[2] + $2*g[3], g[4] + $1*g[5] + $2*g[6] }'; }
		position <"$tmp/corners" | gdaltransform -s_srs "$srs" -t_srs EPSG:4326 -output_xy |
			paste -d ' ' "$tmp/corners" - | awk -v f="$name" '{ print "corner", f, $1, $2, $3, $4 }'
		{
			echo "x,y"
			position <"$tmp/vertices" | tr ' ' ','
		} >"$tmp/points.csv"
		ogr2ogr -f CSV /vsistdout/ "$tmp/points.csv" -oo X_POSSIBLE_NAMES=x -oo Y_POSSIBLE_NAMES=y \
			-s_srs "$srs" -t_srs EPSG:4326 -lco GEOMETRY=AS_XY | tail -n +2 | cut -d , -f 1,2 | tr ',' ' ' |
			paste -d ' ' "$tmp/vertices" - | awk -v f="$name" '{ print "ogr", f, $1, $2, $3, $4 }'
	done
} >"$out"
echo "wrote $(ls "$dir" | wc -l) files ($(du -ch "$dir"/* | tail -n 1 | cut -f 1)) and $(grep -vc '^#' "$out") lines to $out"
