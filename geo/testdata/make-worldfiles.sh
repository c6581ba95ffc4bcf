#!/bin/sh
# Regenerates the world files under worldfile/ and worldfiles.txt, what GDAL reads from
# them (written with GDAL 3.6.2). Run from this directory: sh make-worldfiles.sh
#
# GDAL-written: a tiny PNG is made from a VRT with a known geotransform by
#   gdal_translate -of PNG -co WORLDFILE=YES NAME.vrt NAME.png   (writes NAME.wld with %.10f)
# hand-written: the world file is written here, next to a tiny PNG or JPEG.
# Then, for each, with the .aux.xml GDAL leaves removed so the world file alone counts:
#   source NAME gt0 … gt5   the geotransform the image was made with (GDAL-written only)
#   gt NAME gt0 … gt5       what GDAL reads from NAME.png/.jpg and its world file
#                           (gdal_translate -of VRT, which prints 17 significant digits)
set -eu
dir=worldfile
out=worldfiles.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$dir" && mkdir "$dir"
gdal_create -q -of GTiff -outsize 8 6 -bands 1 -burn 1 "$tmp/base.tif"

# read NAME IMAGE: what GDAL reads as the geotransform of IMAGE.
read_gt() {
	rm -f "$2.aux.xml"
	echo "gt $1 $(gdal_translate -q -of VRT "$2" /vsistdout/ | sed -n 's:.*<GeoTransform>\(.*\)</GeoTransform>.*:\1:p' | tr -d ' ' | tr ',' ' ')"
}

# written NAME "GT": GDAL writes the world file of a PNG with that geotransform.
written() {
	cat >"$tmp/$1.vrt" <<VRT
<VRTDataset rasterXSize="8" rasterYSize="6">
  <GeoTransform>$2</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1">
    <SimpleSource><SourceFilename>$tmp/base.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
  </VRTRasterBand>
</VRTDataset>
VRT
	gdal_translate -q -of PNG -co WORLDFILE=YES "$tmp/$1.vrt" "$tmp/$1.png"
	cp "$tmp/$1.wld" "$dir/$1.wld"
	echo "source $1 $(echo "$2" | tr -d ' ' | tr ',' ' ')"
	read_gt "$1" "$tmp/$1.png"
}

# handwritten NAME EXT 'TEXT' (printf format): a world file written by hand.
handwritten() {
	case $2 in
	jgw) image="$tmp/$1.jpg" && gdal_translate -q -of JPEG "$tmp/base.tif" "$image" ;;
	*) image="$tmp/$1.png" && gdal_translate -q -of PNG "$tmp/base.tif" "$image" ;;
	esac
	rm -f "$image.aux.xml"
	printf "$3" >"$dir/$1.$2"
	cp "$dir/$1.$2" "${image%.*}.$2"
	read_gt "$1" "$image"
}

{
	echo "# Written by make-worldfiles.sh with $(gdalinfo --version)."
	# standards.md §4: GT (100, 1, 0.2, 200, 0.3, -1) -> 1, 0.3, 0.2, -1, 100.6, 199.65
	written affine "100, 1, 0.2, 200, 0.3, -1"
	# standards.md §3.5's least-squares affine, in degrees: GDAL's %.10f drops digits.
	written degrees "131.850007331018, 2.50002386447425e-05, 9.96180118423453e-07, 43.1399899166369, -7.94059348166071e-07, -2.0000659599424e-05"
	written utm "735120.5, 2.5, 0, 4777890.25, 0, -2.5"
	# standards.md §4: C=131.8500125, F=43.13999, A=0.000025, E=-0.00002 -> origin (131.85, 43.14)
	handwritten handwritten jgw '0.000025\n0\n0\n-0.00002\n131.8500125\n43.13999\n'
	# CRLF, spaces, exponents and blank lines at the end.
	handwritten crlf pgw '  2.5E-05 \r\n0.0\r\n 0e0\r\n-2.0e-5\r\n131.8500125\r\n\t43.13999\r\n\r\n\r\n'
	# Rotated by 90°: A = E = 0, which GDAL accepts since B and D are not.
	handwritten rotated90 wld '0\n-2\n2\n0\n500001\n4000001\n'
} >"$out"
echo "wrote $(ls "$dir" | wc -l) world files and $(grep -vc '^#' "$out") lines to $out"
