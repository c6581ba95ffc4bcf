package formats

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// Reading what GDAL/OGR reads (Shapefile, GeoPackage): GDAL's own ogr2ogr turns each
// layer into a GeoJSON file in WGS 84 longitude/latitude, in a process of its own (a file
// GDAL chokes on cannot take the server down with it), before the import's transaction
// opens (see converter); the GeoJSON reader then reads those.

// OGRAvailable reports whether GDAL's ogr2ogr and ogrinfo are installed, without which
// Shapefiles and GeoPackages cannot be imported.
func OGRAvailable() bool {
	_, err1 := exec.LookPath("ogr2ogr")
	_, err2 := exec.LookPath("ogrinfo")
	return err1 == nil && err2 == nil
}

// ogrEnv keeps GDAL off the network and away from files beside the upload, as the
// raster reader does.
var ogrEnv = []string{"GDAL_HTTP_TIMEOUT=1", "CPL_VSIL_CURL_ALLOWED_EXTENSIONS=.satmark-never", "PROJ_NETWORK=OFF",
	"GDAL_PAM_ENABLED=NO", "OGR_GPKG_FOREIGN_KEY_CHECK=NO"}

// ogrConverter reads a Shapefile (its .shp with the .shx, .dbf and .prj beside it,
// zipped) or a GeoPackage: it runs ogrinfo and ogr2ogr on src's file, each layer with geometry into a
// GeoJSON file of dir in lon/lat, and returns the reader of those files, layer by layer.
func ogrConverter(driver, ext string) converter {
	return func(src ImportSource, t ImportTarget, dir string) (Reader, error) {
		if !OGRAvailable() {
			return nil, fileErrorf("importing a %s needs GDAL's ogr2ogr, which is not installed on the server (Debian: apt-get install gdal-bin)", driver)
		}
		name, err := src.pick(driver+" file", nil, ext)
		if err != nil {
			return nil, err
		}
		if !t.Place.Georeferenced() {
			return nil, ErrNotGeoreferenced
		}
		file := filepath.Join(src.Dir, filepath.FromSlash(name))
		if err := sniffOGR(file, driver); err != nil {
			return nil, err
		}
		layers, err := ogrLayers(file)
		if err != nil {
			return nil, err
		}
		if len(layers) == 0 {
			return nil, fileErrorf("the %s has no layer with geometry", driver)
		}
		var out []string
		for i, layer := range layers {
			to := filepath.Join(dir, fmt.Sprintf("layer%d.geojson", i))
			if err := ogrLayer(file, layer, to); err != nil {
				return nil, err
			}
			out = append(out, to)
		}
		return func(_ ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
			for _, to := range out {
				if err := readLayer(to, t, emit); err != nil {
					return err
				}
			}
			return nil
		}, nil
	}
}

func readLayer(file string, t ImportTarget, emit func(annotations.ImportFeature) error) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return readGeoJSON(bufio.NewReaderSize(f, 1<<16), "wgs84", t, emit)
}

// sniffOGR checks the file is what its ending says, by its first bytes: a Shapefile's
// file code 9994, a GeoPackage's SQLite header and application id.
func sniffOGR(file, driver string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 72)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch driver {
	case "ESRI Shapefile":
		if len(head) < 4 || !bytes.Equal(head[:4], []byte{0, 0, 0x27, 0x0a}) {
			return fileErrorf("%s is not a Shapefile (its first bytes are not the file code 9994)", filepath.Base(file))
		}
	case "GPKG":
		if len(head) < 72 || !bytes.HasPrefix(head, []byte("SQLite format 3\x00")) || !bytes.Equal(head[68:72], []byte("GPKG")) {
			return fileErrorf("%s is not a GeoPackage (no SQLite header with the GPKG application id)", filepath.Base(file))
		}
	}
	return nil
}

var ogrLayerLine = regexp.MustCompile(`^\d+: (.+?)(?: \(([^()]*)\))?$`)

// ogrLayers lists the file's layers that have geometry, as ogrinfo names them.
func ogrLayers(file string) ([]string, error) {
	cmd := exec.Command("ogrinfo", "-ro", "-q", file)
	cmd.Env = append(os.Environ(), ogrEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fileErrorf("GDAL cannot read %s: %s", filepath.Base(file), gdalSays(stderr.String(), err))
	}
	var layers []string
	for _, line := range strings.Split(string(out), "\n") {
		m := ogrLayerLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || m[2] == "None" {
			continue
		}
		layers = append(layers, m[1])
	}
	return layers, nil
}

// ogrLayer writes one layer of file as GeoJSON in lon/lat to the file to.
func ogrLayer(file, layer, to string) error {
	cmd := exec.Command("ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", "-lco", "COORDINATE_PRECISION=15", to, file, layer)
	cmd.Env = append(os.Environ(), ogrEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fileErrorf("GDAL cannot read layer %q of %s: %s", layer, filepath.Base(file), gdalSays(stderr.String(), err))
	}
	return nil
}

// gdalSays is the gist of what a GDAL tool printed when it failed.
func gdalSays(stderr string, err error) string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, strings.TrimPrefix(l, "ERROR 1: "))
		}
	}
	if len(lines) == 0 {
		return err.Error()
	}
	if len(lines) > 3 {
		lines = lines[:3]
	}
	return strings.Join(lines, "; ")
}
