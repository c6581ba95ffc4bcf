package imagery

import (
	"bufio"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
)

// xmpItems turns an XMP packet (GDAL's xml:XMP document) into items of the "XMP" domain:
// each property of an rdf:Description, keyed prefix:name as the packet's namespaces
// name them (dc:creator, photoshop:Credit), its value the attribute or the text, the
// items of an rdf:Seq, Bag or Alt joined with "; ". A packet that is not XML gives none.
func xmpItems(doc string) []MetadataItem {
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = false
	prefixes := map[string]string{}
	var out []MetadataItem
	var prop string // the property being read, prefix:name
	var depth int   // elements open inside it
	var texts []string
	name := func(n xml.Name) string {
		if p := prefixes[n.Space]; p != "" {
			return p + ":" + n.Local
		}
		return n.Local
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					prefixes[a.Value] = a.Name.Local
				}
			}
			switch {
			case prop != "":
				depth++
			case t.Name.Local == "Description":
				for _, a := range t.Attr {
					if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" && a.Name.Local != "about" {
						out = append(out, MetadataItem{Domain: "XMP", Key: name(a.Name), Value: a.Value})
					}
				}
			case t.Name.Local != "xmpmeta" && t.Name.Local != "RDF":
				prop, depth, texts = name(t.Name), 0, nil
			}
		case xml.CharData:
			if s := strings.TrimSpace(string(t)); prop != "" && s != "" {
				texts = append(texts, s)
			}
		case xml.EndElement:
			if prop == "" {
				continue
			}
			if depth > 0 {
				depth--
				continue
			}
			if len(texts) > 0 {
				out = append(out, MetadataItem{Domain: "XMP", Key: prop, Value: strings.Join(texts, "; ")})
			}
			prop = ""
		}
	}
}

// iptcNames are the IPTC IIM application records (2:n) a release's photo carries most.
var iptcNames = map[byte]string{5: "ObjectName", 25: "Keywords", 40: "SpecialInstructions", 55: "DateCreated", 60: "TimeCreated",
	80: "By-line", 85: "By-lineTitle", 90: "City", 92: "Sub-location", 95: "Province-State", 101: "Country-PrimaryLocationName",
	103: "OriginalTransmissionReference", 105: "Headline", 110: "Credit", 115: "Source", 116: "CopyrightNotice", 120: "Caption-Abstract", 122: "Writer-Editor"}

// iptcItems reads the IPTC IIM records of a JPEG's Photoshop APP13 segment (resource
// 0x0404) as items of the "IPTC" domain, keyed by record name (2:n for one not named
// above), repeated records (keywords) joined with "; ". GDAL does not read them. A file
// that is not a JPEG, or has none, gives none; only the segments before the image data
// are read.
func iptcItems(path string) []MetadataItem {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var soi [2]byte
	if _, err := io.ReadFull(r, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return nil
	}
	for {
		var h [4]byte
		if _, err := io.ReadFull(r, h[:]); err != nil || h[0] != 0xFF || h[1] == 0xDA || h[1] == 0xD9 {
			return nil
		}
		n := int(binary.BigEndian.Uint16(h[2:])) - 2
		if n < 0 {
			return nil
		}
		if h[1] != 0xED {
			if _, err := r.Discard(n); err != nil {
				return nil
			}
			continue
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(r, seg); err != nil {
			return nil
		}
		if items := photoshopIPTC(seg); items != nil {
			return items
		}
	}
}

// photoshopIPTC finds resource 0x0404 in an APP13 segment's image resource blocks and
// decodes its IIM records.
func photoshopIPTC(seg []byte) []MetadataItem {
	const sig = "Photoshop 3.0\x00"
	if !strings.HasPrefix(string(seg), sig) {
		return nil
	}
	p := seg[len(sig):]
	for len(p) >= 12 && string(p[:4]) == "8BIM" {
		id := binary.BigEndian.Uint16(p[4:])
		nameLen := int(p[6])
		off := 7 + nameLen
		if off%2 == 1 {
			off++
		}
		if len(p) < off+4 {
			return nil
		}
		size := int(binary.BigEndian.Uint32(p[off:]))
		data := p[off+4:]
		if size > len(data) {
			return nil
		}
		if id == 0x0404 {
			return iimRecords(data[:size])
		}
		next := off + 4 + size
		if size%2 == 1 {
			next++
		}
		if next > len(p) {
			return nil
		}
		p = p[next:]
	}
	return nil
}

func iimRecords(p []byte) []MetadataItem {
	var keys []string
	values := map[string][]string{}
	for len(p) >= 5 && p[0] == 0x1C {
		rec, ds := p[1], p[2]
		n := int(binary.BigEndian.Uint16(p[3:]))
		if n&0x8000 != 0 || len(p) < 5+n {
			break // extended lengths are for binary records, not text
		}
		v := string(p[5 : 5+n])
		p = p[5+n:]
		if rec != 2 || ds == 0 { // 2:00 is the record's version
			continue
		}
		key := iptcNames[ds]
		if key == "" {
			key = fmt.Sprintf("2:%03d", ds)
		}
		if _, ok := values[key]; !ok {
			keys = append(keys, key)
		}
		values[key] = append(values[key], v)
	}
	out := make([]MetadataItem, 0, len(keys))
	for _, k := range keys {
		out = append(out, MetadataItem{Domain: "IPTC", Key: k, Value: strings.Join(values[k], "; ")})
	}
	return out
}
