package ingest

import (
	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

// fileMetadata is what imagery read of a file's capture, as the store keeps it.
func fileMetadata(m imagery.FileMetadata) *annotations.FileMetadata {
	raw := make([]annotations.MetadataItem, len(m.Raw))
	for i, it := range m.Raw {
		raw[i] = annotations.MetadataItem(it)
	}
	return &annotations.FileMetadata{AcquiredAt: m.AcquiredAt, Satellite: m.Satellite, Sensor: m.Sensor,
		SunElevation: m.SunElevation, SunAzimuth: m.SunAzimuth, OffNadir: m.OffNadir, CloudCover: m.CloudCover,
		Latitude: m.Latitude, Longitude: m.Longitude, RPC: m.RPC, Truncated: m.Truncated, Raw: raw}
}
