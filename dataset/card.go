package dataset

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/satmark/satmark/annotations"
)

// Card describes a dataset for whoever trains on it or publishes it: how it was cut,
// its classes and their counts by split, and every image it comes from with the
// release's provenance, credit and licence. It is written as dataset.json and README.md.
type Card struct {
	Name      string                `json:"name"`
	CreatedAt time.Time             `json:"created_at"`
	Satmark   string                `json:"satmark"` // the build that wrote it
	Format    string                `json:"format"`
	Reviewed  string                `json:"annotations"` // which annotations: "accepted only" or "all"
	Options   Options               `json:"options"`
	Splits    map[string]SplitCount `json:"splits"`
	Classes   []ClassCount          `json:"classes"`
	Images    []CardImage           `json:"images"`
	// Credits are the distinct credit and licence lines of the images' releases, to be
	// reproduced with the dataset.
	Credits []string `json:"credits"`
	// Dropped counts annotations no chip showed enough of; EmptyDropped the empty chips
	// thinned out; Omitted the annotations the format could not carry.
	Dropped      int `json:"dropped_by_min_visible"`
	EmptyDropped int `json:"empty_chips_dropped"`
	Omitted      int `json:"omitted_by_format"`
}

// SplitCount is what one split holds.
type SplitCount struct {
	Images      int `json:"images"` // source images
	Chips       int `json:"chips"`
	EmptyChips  int `json:"empty_chips"`
	Annotations int `json:"annotations"` // annotation pieces, one per chip showing it
}

// ClassCount is one class and how many pieces of it each split holds.
type ClassCount struct {
	Name   string         `json:"name"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

// CardImage is one source image: where it went, and where it came from.
type CardImage struct {
	ID           string             `json:"id"`
	Title        string             `json:"title"`
	SHA256       string             `json:"sha256"`
	Split        string             `json:"split"`
	Width        int                `json:"width"`
	Height       int                `json:"height"`
	Chips        int                `json:"chips"`
	CapturedFrom string             `json:"captured_from,omitempty"`
	CapturedTo   string             `json:"captured_to,omitempty"`
	Location     string             `json:"location,omitempty"`
	Source       annotations.Source `json:"source"`
	// Claims are the release's claims, each with the annotations of this dataset linked
	// to it as evidence.
	Claims []CardClaim `json:"claims"`
}

// CardClaim is one claim of a release and where it stands (on all its evidence), with
// the evidence among the dataset's annotations.
type CardClaim struct {
	ID          string                 `json:"id"`
	Text        string                 `json:"text"`
	State       annotations.ClaimState `json:"state"`
	ClaimedFrom string                 `json:"claimed_from,omitempty"`
	ClaimedTo   string                 `json:"claimed_to,omitempty"`
	PlaceName   string                 `json:"place_name,omitempty"`
	Evidence    []CardEvidence         `json:"evidence"`
}

// CardEvidence is an annotation of the dataset linked to a claim.
type CardEvidence struct {
	AnnotationID string             `json:"annotation_id"`
	Stance       annotations.Stance `json:"stance"`
	Confidence   float64            `json:"confidence"`
	Assessment   string             `json:"assessment,omitempty"`
}

// ClassName is a label's name in a dataset: its path joined with "/".
func ClassName(l annotations.Label) string {
	if len(l.Path) > 0 {
		return strings.Join(l.Path, "/")
	}
	return l.Name
}

// NewCard describes the plan's dataset.
func NewCard(p Plan, name, format, reviewed, build string, omitted int, now time.Time) Card {
	c := Card{Name: name, CreatedAt: now.UTC(), Satmark: build, Format: format, Reviewed: reviewed, Options: p.Options,
		Splits: map[string]SplitCount{}, Dropped: p.Dropped, EmptyDropped: p.EmptyDropped, Omitted: omitted}
	classes := map[string]*ClassCount{}
	images := map[string]*CardImage{}
	var order []string
	seenImage := map[string]map[string]bool{}
	evidenceSeen := map[string]map[string]bool{} // annotations whose links are counted, by image
	for _, ch := range p.Chips {
		sc := c.Splits[ch.Split]
		sc.Chips++
		if len(ch.Pieces) == 0 {
			sc.EmptyChips++
		}
		sc.Annotations += len(ch.Pieces)
		img := ch.Source.Image
		if seenImage[ch.Split] == nil {
			seenImage[ch.Split] = map[string]bool{}
		}
		if !seenImage[ch.Split][img.ID] {
			seenImage[ch.Split][img.ID] = true
			sc.Images++
		}
		c.Splits[ch.Split] = sc
		ci, ok := images[img.ID]
		if !ok {
			ci = &CardImage{ID: img.ID, Title: img.Title, SHA256: img.SHA256, Split: ch.Split, Width: img.Width, Height: img.Height,
				CapturedFrom: img.CapturedFrom, CapturedTo: img.CapturedTo, Location: img.LocationName, Source: img.Source,
				Claims: cardClaims(img.Source.Claims)}
			images[img.ID] = ci
			order = append(order, img.ID)
			evidenceSeen[img.ID] = map[string]bool{}
		}
		ci.Chips++
		for _, pc := range ch.Pieces {
			addEvidence(ci.Claims, pc.Annotation, evidenceSeen[img.ID])
			n := ClassName(pc.Annotation.Label)
			cc, ok := classes[n]
			if !ok {
				cc = &ClassCount{Name: n, Counts: map[string]int{}}
				classes[n] = cc
			}
			cc.Counts[ch.Split]++
			cc.Total++
		}
	}
	for _, id := range order {
		c.Images = append(c.Images, *images[id])
	}
	for _, cc := range classes {
		c.Classes = append(c.Classes, *cc)
	}
	sort.Slice(c.Classes, func(i, j int) bool { return c.Classes[i].Name < c.Classes[j].Name })
	seen := map[string]bool{}
	for _, img := range c.Images {
		line := creditLine(img.Source)
		if line != "" && !seen[line] {
			seen[line] = true
			c.Credits = append(c.Credits, line)
		}
	}
	if c.Images == nil {
		c.Images = []CardImage{}
	}
	if c.Classes == nil {
		c.Classes = []ClassCount{}
	}
	return c
}

// cardClaims are a release's claims, without evidence yet.
func cardClaims(refs []annotations.ClaimRef) []CardClaim {
	claims := make([]CardClaim, len(refs))
	for i, r := range refs {
		claims[i] = CardClaim{ID: r.ID, Text: r.Text, State: r.State, ClaimedFrom: r.ClaimedFrom, ClaimedTo: r.ClaimedTo,
			PlaceName: r.PlaceName, Evidence: []CardEvidence{}}
	}
	return claims
}

// addEvidence adds annotation a's links to the claims, once per annotation (a piece of it
// may show in several chips).
func addEvidence(claims []CardClaim, a annotations.Annotation, seen map[string]bool) {
	if len(a.Evidence) == 0 || seen[a.ID] {
		return
	}
	seen[a.ID] = true
	for _, e := range a.Evidence {
		for i := range claims {
			if claims[i].ID == e.ClaimID {
				claims[i].Evidence = append(claims[i].Evidence, CardEvidence{AnnotationID: a.ID, Stance: e.Stance, Confidence: e.Confidence, Assessment: e.Assessment})
			}
		}
	}
}

// evidenceCounts says how many of a claim's links in the dataset take each stance.
func evidenceCounts(evidence []CardEvidence) string {
	n := map[annotations.Stance]int{}
	for _, e := range evidence {
		n[e.Stance]++
	}
	words := map[annotations.Stance]string{annotations.StanceSupports: "supporting", annotations.StanceContradicts: "contradicting", annotations.StanceContext: "giving context"}
	var parts []string
	for _, st := range annotations.Stances {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], words[st]))
		}
	}
	if len(parts) == 0 {
		return "no annotation of this dataset is evidence for it"
	}
	return "evidence in this dataset: " + strings.Join(parts, ", ")
}

func creditLine(s annotations.Source) string {
	var parts []string
	if s.Credit != "" {
		parts = append(parts, s.Credit)
	} else if s.Publisher != "" {
		parts = append(parts, s.Publisher)
	}
	if s.License != "" {
		parts = append(parts, "licence: "+s.License)
	}
	return strings.Join(parts, " — ")
}

// Markdown is the card as a README for the dataset's folder.
func (c Card) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", c.Name)
	fmt.Fprintf(&b, "A %s dataset exported by satmark (%s) on %s from %d images; %s annotations.\n\n",
		c.Format, c.Satmark, c.CreatedAt.Format("2006-01-02 15:04 UTC"), len(c.Images), c.Reviewed)
	o := c.Options
	if o.ChipSize > 0 {
		fmt.Fprintf(&b, "Chips of %d×%d pixels overlapping by %d; an annotation is kept in a chip when at least %.0f %% of it shows there. ",
			o.ChipSize, o.ChipSize, o.Overlap, 100*o.MinVisible)
	} else {
		b.WriteString("Whole images, one per dataset image. ")
	}
	if o.EmptyRatio >= 0 {
		fmt.Fprintf(&b, "Empty chips kept: at most %g per chip with annotations (%d dropped). ", o.EmptyRatio, c.EmptyDropped)
	}
	fmt.Fprintf(&b, "Split by %s, %g/%g/%g, seed %q: every chip of a %s is in the same split.\n\n", o.By, o.Shares.Train, o.Shares.Val, o.Shares.Test, o.Seed, o.By)
	b.WriteString("| split | images | chips | empty chips | annotations |\n|---|---:|---:|---:|---:|\n")
	for _, s := range []string{Train, Val, Test} {
		sc := c.Splits[s]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", s, sc.Images, sc.Chips, sc.EmptyChips, sc.Annotations)
	}
	b.WriteString("\n## Classes\n\n| class | train | val | test | total |\n|---|---:|---:|---:|---:|\n")
	for _, cc := range c.Classes {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", mdCell(cc.Name), cc.Counts[Train], cc.Counts[Val], cc.Counts[Test], cc.Total)
	}
	if c.Dropped > 0 || c.Omitted > 0 {
		fmt.Fprintf(&b, "\n%d annotations showed in no chip enough to be kept; %d pieces were left out because %s cannot carry their shape (see satmark-export.json in each split).\n",
			c.Dropped, c.Omitted, c.Format)
	}
	b.WriteString("\n## Images and where they came from\n\n")
	for _, img := range c.Images {
		s := img.Source
		fmt.Fprintf(&b, "- **%s** (%s, %d×%d, %d chips, SHA-256 `%s`)\n", mdCell(img.Title), img.Split, img.Width, img.Height, img.Chips, img.SHA256)
		fmt.Fprintf(&b, "  - released by %s", orDash(s.Publisher))
		if s.ReleasedAt != "" {
			fmt.Fprintf(&b, " on %s", s.ReleasedAt)
		}
		if s.Title != "" {
			fmt.Fprintf(&b, " in “%s”", s.Title)
		}
		if s.URL != "" {
			fmt.Fprintf(&b, " <%s>", s.URL)
		}
		b.WriteString("\n")
		if img.CapturedFrom != "" || img.CapturedTo != "" {
			fmt.Fprintf(&b, "  - captured %s – %s\n", orDash(img.CapturedFrom), orDash(img.CapturedTo))
		}
		if img.Location != "" {
			fmt.Fprintf(&b, "  - location: %s\n", img.Location)
		}
		fmt.Fprintf(&b, "  - credit: %s; licence: %s\n", orDash(s.Credit), orDash(s.License))
		for _, cl := range img.Claims {
			fmt.Fprintf(&b, "  - the release claims: “%s” (%s; %s)\n", cl.Text, cl.State, evidenceCounts(cl.Evidence))
		}
		if len(img.Claims) == 0 && s.Claim != "" {
			fmt.Fprintf(&b, "  - the release claims: %s\n", s.Claim)
		}
	}
	if len(c.Credits) > 0 {
		b.WriteString("\n## Credit and licence lines\n\n")
		for _, l := range c.Credits {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
