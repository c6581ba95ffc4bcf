package imagery

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

func segment(marker byte, payload []byte) []byte {
	b := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(len(payload)+2))
	return append(b, payload...)
}

// A JPEG with an XMP packet and IPTC records, as a newsroom's tools write them: both
// reach the file metadata, keyed as the tools name them.
func TestMetadataReadsXMPAndIPTC(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 80, 80)), nil); err != nil {
		t.Fatal(err)
	}
	j := buf.Bytes()
	xmp := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:Credit="National Intelligence Service"><dc:creator><rdf:Seq><rdf:li>Agency X</rdf:li><rdf:li>Desk Y</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`...)
	var iim []byte
	for _, r := range []struct {
		ds byte
		v  string
	}{{120, "Landing ships at the pier"}, {110, "NIS"}, {25, "ships"}, {25, "port"}} {
		iim = append(iim, 0x1C, 2, r.ds, 0, byte(len(r.v)))
		iim = append(iim, r.v...)
	}
	res := append([]byte("8BIM\x04\x04\x00\x00"), binary.BigEndian.AppendUint32(nil, uint32(len(iim)))...)
	res = append(res, iim...)
	file := append([]byte{}, j[:2]...)
	file = append(file, segment(0xE1, xmp)...)
	file = append(file, segment(0xED, append([]byte("Photoshop 3.0\x00"), res...))...)
	file = append(file, j[2:]...)
	path := filepath.Join(t.TempDir(), "newsroom.jpg")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range ReadMetadata(path).Raw {
		got[it.Domain+" "+it.Key] = it.Value
	}
	for k, want := range map[string]string{
		"XMP photoshop:Credit": "National Intelligence Service", "XMP dc:creator": "Agency X; Desk Y",
		"IPTC Caption-Abstract": "Landing ships at the pier", "IPTC Credit": "NIS", "IPTC Keywords": "ships; port",
	} {
		if got[k] != want {
			t.Errorf("%s: got %q, want %q (all: %v)", k, got[k], want, got)
		}
	}
}
