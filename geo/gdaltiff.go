package geo

// A GeoTIFF's user-defined CRS (GeoKeys that give a projection's parameters, not an EPSG
// code: how GDAL writes a CRS that has none) is read by GDAL's GeoTIFF driver.

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include "cpl_conv.h"
#include "cpl_error.h"
#include "gdal.h"
#include "ogr_srs_api.h"

// satmark_tiff_crs returns the WKT 2 of the CRS GDAL's GeoTIFF driver reads from path
// (its GCPs' when gcps), read-only, from the file alone (no sibling file, no PAM), or
// NULL with *err set. Free either with CPLFree.
static char *satmark_tiff_crs(const char *path, int gcps, char **err) {
	static const char *const drivers[] = {"GTiff", NULL};
	static const char *const options[] = {"GEOREF_SOURCES=INTERNAL", NULL};
	static const char *const siblings[] = {NULL};
	CPLPushErrorHandler(CPLQuietErrorHandler);
	CPLErrorReset();
	GDALAllRegister();
	char *out = NULL;
	GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, options, siblings);
	if (ds == NULL) {
		const char *m = CPLGetLastErrorMsg();
		*err = CPLStrdup(m && *m ? m : "GDAL's GeoTIFF driver cannot open the file");
	} else {
		OGRSpatialReferenceH srs = gcps ? GDALGetGCPSpatialRef(ds) : GDALGetSpatialRef(ds);
		const char *wkt_options[] = {"FORMAT=WKT2_2019", "MULTILINE=NO", NULL};
		if (srs == NULL || OSRExportToWktEx(srs, &out, wkt_options) != OGRERR_NONE) {
			CPLFree(out);
			out = NULL;
			*err = CPLStrdup("GDAL reads no CRS from the GeoKeys");
		}
		GDALClose(ds);
	}
	CPLPopErrorHandler();
	return out;
}
*/
import "C"

import (
	"os"
	"strings"
	"unsafe"
)

// ReadGeoTIFFFile reads the GeoTIFF tags of the TIFF at path as ReadGeoTIFF does, and
// places it in a user-defined CRS too: GDAL's GeoTIFF driver reads that CRS from the
// GeoKeys (as WKT, see CRSFromWKT), from the file alone. A user-defined CRS GDAL cannot
// read, or that is not Valid, leaves the image unplaced with a warning saying why.
// Errors: those of ReadGeoTIFF, or the file's when it cannot be opened.
func ReadGeoTIFFFile(path string) (GeoTIFF, error) {
	f, err := os.Open(path)
	if err != nil {
		return GeoTIFF{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return GeoTIFF{}, err
	}
	return readGeoTIFF(f, st.Size(), func(gcps bool) (CRS, error) { return gdalTIFFCRS(path, gcps) })
}

// gdalTIFFCRS is the CRS GDAL reads from the GeoTIFF at path (its GCPs' CRS when gcps).
// Errors: ErrInvalid (Field "tiff") with GDAL's reason (the path in it replaced by "the
// file"), or CRSFromWKT's.
func gdalTIFFCRS(path string, gcps bool) (CRS, error) {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	var cerr *C.char
	flag := C.int(0)
	if gcps {
		flag = 1
	}
	wkt := C.satmark_tiff_crs(p, flag, &cerr)
	if wkt == nil { // GDAL's message names the file: not where it is on the server
		return CRS{}, errorf(ErrInvalid, "tiff", "%s", strings.ReplaceAll(takeCString(cerr), path, "the file"))
	}
	return CRSFromWKT(takeCString(wkt))
}

// userDefinedCRS resolves a GeoTIFF's user-defined CRS (of its GCPs when gcps); nil when
// the reader has only bytes, not the file GDAL can open.
type userDefinedCRS func(gcps bool) (CRS, error)
