package pgtest_test

import (
	"math"
	"testing"

	"github.com/satmark/satmark/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A 4 × 3 rectangle has area 12 in its own units; PostGIS computes it, so the
// extension is really installed in the test's database.
func TestPostGISAreaOfKnownPolygon(t *testing.T) {
	db := pgtest.DB(t)
	if _, err := db.Exec(`CREATE TABLE footprints (id serial PRIMARY KEY, g geometry(Polygon, 0) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO footprints (g) VALUES (ST_GeomFromText($1))`, "POLYGON((0 0, 4 0, 4 3, 0 3, 0 0))"); err != nil {
		t.Fatal(err)
	}
	var area float64
	if err := db.QueryRow(`SELECT ST_Area(g) FROM footprints`).Scan(&area); err != nil {
		t.Fatal(err)
	}
	if area != 12 {
		t.Errorf("ST_Area = %v, want 12", area)
	}
	// On the WGS 84 spheroid, a 1° × 1° cell at the equator is about 12,309 km²
	// (a sphere of radius 6,371 km gives 12,364 km²): PROJ's geodesic is wired in.
	var geodesic float64
	if err := db.QueryRow(`SELECT ST_Area(ST_GeogFromText('SRID=4326;POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))'))`).Scan(&geodesic); err != nil {
		t.Fatal(err)
	}
	if got, want := geodesic/1e6, 12308.78; math.Abs(got-want) > 1 {
		t.Errorf("geodesic area = %.2f km², want %.2f km²", got, want)
	}
}

// Each test's database is its own: a table made in one is not seen in another.
func TestDatabasesAreSeparate(t *testing.T) {
	a, b := pgtest.DB(t), pgtest.DB(t)
	if _, err := a.Exec(`CREATE TABLE only_in_a (x int)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'only_in_a'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("second database sees %d tables named only_in_a, want 0", n)
	}
	var postgis string
	if err := b.QueryRow(`SELECT extversion FROM pg_extension WHERE extname = 'postgis'`).Scan(&postgis); err != nil {
		t.Fatalf("postgis in the second database: %v", err)
	}
}
