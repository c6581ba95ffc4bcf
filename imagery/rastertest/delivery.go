package rastertest

// A satellite delivery as it comes: a DigitalGlobe/Maxar raster with the .IMD and .RPB
// sidecars GDAL's DigitalGlobe reader reads beside it (written by hand in the format of
// GDAL's reader, gcore/mdreader/reader_digital_globe.cpp; `gdalinfo -mdd IMAGERY` on the
// raster in its folder says SATELLITEID=WV03, CLOUDCOVER=5,
// ACQUISITIONDATETIME=2019-12-10 10:33:55).

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DGScene is the DigitalGlobe/Maxar name of the delivery's files, without their endings.
const DGScene = "19DEC10103355-P2AS-058800000010_01_P001"

// DGIMD is an .IMD as a DigitalGlobe delivery has it (the items GDAL's DigitalGlobe
// reader maps to IMAGERY: satId, firstLineTime, cloudCover as a fraction; and the sun
// and view angles it keeps in the IMD domain).
const DGIMD = `version = "28.3";
generationTime = 2019-12-10T11:02:11.000000Z;
productOrderId = "058800000010_01_P001";
productCatalogId = "A010010004A7C600";
numberOfLooks = 1;
radiometricLevel = "Corrected";
bitsPerPixel = 16;
BEGIN_GROUP = IMAGE_1
	satId = "WV03";
	mode = "FullSwath";
	scanDirection = "Forward";
	catId = "104001005F5C2D00";
	firstLineTime = 2019-12-10T10:33:55.123456Z;
	avgLineRate = 20000.00;
	meanSunAz = 163.2;
	meanSunEl = 25.3;
	meanSatAz = 210.5;
	meanSatEl = 77.1;
	meanOffNadirViewAngle = 11.4;
	cloudCover = 0.05;
END_GROUP = IMAGE_1
END;
`

// DGRPB is an .RPB with a sensor model of a little curvature around Vladivostok (line =
// −lat + 0.02·lon·lat, sample = lon + 0.01·lat², normalised), for a 640×480 raster.
func DGRPB() string {
	coeff := func(terms map[int]float64) string {
		v := make([]string, 20)
		for i := range v {
			v[i] = fmt.Sprintf("%+.15e", terms[i])
		}
		return "(\n\t\t\t" + strings.Join(v, ",\n\t\t\t") + ")"
	}
	return fmt.Sprintf(`satId = "WV03";
bandId = "P";
SpecId = "RPC00B";
BEGIN_GROUP = IMAGE
	errBias = 1.0;
	errRand = 0.5;
	lineOffset = 240;
	sampOffset = 320;
	latOffset = 43.11;
	longOffset = 131.89;
	heightOffset = 30;
	lineScale = 240;
	sampScale = 320;
	latScale = 0.002;
	longScale = 0.003;
	heightScale = 100;
	lineNumCoef = %s;
	lineDenCoef = %s;
	sampNumCoef = %s;
	sampDenCoef = %s;
END_GROUP = IMAGE
END;
`, coeff(map[int]float64{2: -1, 4: 0.02}), coeff(map[int]float64{0: 1}), coeff(map[int]float64{1: 1, 9: 0.01}), coeff(map[int]float64{0: 1}))
}

// DGDelivery writes a DigitalGlobe delivery folder: the 640×480 16-bit raster DGScene+".TIF"
// (a smooth ramp), its .IMD (DGIMD) and its .RPB (DGRPB), and returns the folder.
func DGDelivery(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	Make(t, dir, DGScene+".TIF", Spec{Width: 640, Height: 480, Bands: 1, Type: "UInt16", Value: func(band, x, y int) float64 { return 200 + 3000*float64(x+y)/1120 }}, "-of", "GTiff")
	for name, text := range map[string]string{DGScene + ".IMD": DGIMD, DGScene + ".RPB": DGRPB()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// ENVI scratch of rastertest, not part of the delivery.
	scratch, _ := filepath.Glob(filepath.Join(dir, "*.raw*"))
	for _, m := range scratch {
		os.Remove(m)
	}
	return dir
}
