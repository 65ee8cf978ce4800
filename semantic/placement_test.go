package semantic

import (
	"math/rand/v2"
	"testing"
)

// A miss's search says which IVF list its question belongs to, and adding
// the question with that placement files it there without ranking the
// centroids again; a placement from before a retraining, or from another
// index, is ignored.
func TestAddPlacedFilesWhereTheSearchSaid(t *testing.T) {
	const n, dim = 6000, 32
	c := idxClustered(21, n, dim, 60)
	ix := NewIndexWithOptions(dim, IndexOptions{ANNMinEntries: -1})
	c.fill(ix)
	ix.annMin = 4096
	ix.trainNow()
	if ix.cent == nil {
		t.Fatal("no IVF index after training")
	}
	r := rand.New(rand.NewPCG(22, 23))
	bucketOf := func(id uint64) int32 {
		ix.mu.RLock()
		defer ix.mu.RUnlock()
		return ix.bucketOf[ix.byID[id]]
	}
	nearest := func(v []float32) int32 {
		u := make([]float32, dim)
		normalizeInto(u, v)
		return nearestCentroid(ix.cent, dim, u)
	}
	for i := range 50 {
		v := idxUnit(r, dim)
		_, _, _, place := ix.SearchPlaced(v, 0.9)
		if place.ix != ix || place.list != nearest(v) {
			t.Fatalf("search %d placed its vector in list %d of %p, the nearest is %d of %p", i, place.list, place.ix, nearest(v), ix)
		}
		id := uint64(n + 1 + i)
		ix.AddPlaced(id, v, place)
		if got := bucketOf(id); got != place.list {
			t.Fatalf("added to list %d, placed in %d", got, place.list)
		}
	}
	// The placement is taken as it is (so its list is where it goes)...
	v := idxUnit(r, dim)
	_, _, _, place := ix.SearchPlaced(v, 0.9)
	other := (place.list + 1) % int32(len(ix.buckets))
	ix.AddPlaced(1_000_001, v, Placement{ix: ix, gen: place.gen, list: other})
	if got := bucketOf(1_000_001); got != other {
		t.Fatalf("a placement in list %d not followed: filed in %d", other, got)
	}
	// ... unless the index changed since, or it is another index's.
	stale := Placement{ix: ix, gen: place.gen - 1, list: other}
	ix.AddPlaced(1_000_002, v, stale)
	foreign := Placement{ix: NewIndex(dim), gen: place.gen, list: other}
	ix.AddPlaced(1_000_003, v, foreign)
	for _, id := range []uint64{1_000_002, 1_000_003} {
		if got := bucketOf(id); got != nearest(v) {
			t.Fatalf("entry %d: a stale or foreign placement followed: list %d, nearest %d", id, got, nearest(v))
		}
	}
	checkIndexInvariants(t, ix)
}
