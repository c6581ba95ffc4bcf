package annotations

// FileMetadata is what an image's file says of its own capture (GDAL's metadata: TIFF
// tags, GDAL_METADATA, NITF fields and TREs, a JPEG's EXIF), as ingest read it. Each
// field is set only when the file has it; Raw keeps every item read, bounded and cleaned.
// It is stored with the image and never edited.
type FileMetadata struct {
	AcquiredAt   string         `json:"acquired_at,omitempty"` // RFC 3339 in UTC, or a date (YYYY-MM-DD)
	Satellite    string         `json:"satellite,omitempty"`
	Sensor       string         `json:"sensor,omitempty"`
	SunElevation *float64       `json:"sun_elevation,omitempty"` // degrees
	SunAzimuth   *float64       `json:"sun_azimuth,omitempty"`   // degrees clockwise from north
	OffNadir     *float64       `json:"off_nadir,omitempty"`     // degrees
	CloudCover   *float64       `json:"cloud_cover,omitempty"`   // per cent
	Latitude     *float64       `json:"latitude,omitempty"`      // a camera's GPS position
	Longitude    *float64       `json:"longitude,omitempty"`
	RPC          bool           `json:"rpc,omitempty"`       // the file carries rational polynomial coefficients
	Truncated    bool           `json:"truncated,omitempty"` // items or values were cut to bounds
	Raw          []MetadataItem `json:"raw"`
}

// MetadataItem is one key and value of a file's metadata in its GDAL domain ("" for the
// default one).
type MetadataItem struct {
	Domain string `json:"domain"`
	Key    string `json:"key"`
	Value  string `json:"value"`
}

// Where an image's capture window came from (Image.CapturedSource).
const (
	CapturedByRelease = "release" // the analyst gave it, at upload or since
	CapturedByFile    = "file"    // pre-filled from FileMetadata.AcquiredAt at upload
)
