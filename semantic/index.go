package semantic

import (
	"math"
	"slices"
	"sync"
)

// Index holds the unit vectors of one scope's cached queries.
//
// Vectors are stored contiguously in buckets, as int8 codes with a
// per-vector scale (IndexOptions.Float32 keeps float32 instead): one bucket
// while the search is exact, one per IVF list once the index is large, so
// a search always scans contiguous memory. Removal moves a bucket's last
// vector into the hole. Each entry has a number, stable while it lives
// (numbers of removed entries are reused), that holds its id and bucket
// position; an id→entry map finds it. The index knows nothing of time:
// its owner (Store) decides which entries expire or are evicted, and
// removes them.
//
// Each vector also has a sketch (sketch.go) that lets SearchAtLeast pass
// over the vectors that cannot come near its minimum score for a
// nanosecond or two each.
//
// Search is exact (a brute-force scan, AVX2 where the CPU has it) until the
// index reaches IndexOptions.ANNMinEntries; from there an IVF index (k-means
// centroids, nlist ≈ √n, the NProbe nearest lists scanned) is trained aside,
// without blocking Search, and swapped in (see index_ivf.go). It is
// retrained when the index doubles or its entries have turned over twice,
// and dropped when the index shrinks below half the threshold.
//
// An Index is safe for concurrent use.
type Index struct {
	dim    int
	quant  bool // int8 codes + scales instead of float32
	sk     *sketcher
	annMin int // entries from which an IVF index is kept; 0: never
	nprobe int // 0: default for the list count

	syncBuild bool   // tests: Add trains inline instead of in a goroutine
	buildHook func() // tests: called by a build between its rounds, no lock held

	mu      sync.RWMutex
	byID    map[uint64]int32 // id → entry
	mapPeak int              // entries the map has held since it was made

	// Per entry number.
	ids      []uint64
	seqs     []uint64 // Add order, unique per Add (a replaced vector gets a new one); 0: free
	bucketOf []int32
	posOf    []int32 // position in its bucket
	free     []int32 // free entry numbers

	nextSeq uint64
	scratch []float32

	buckets   []bucket  // one (exact search) or one per IVF list
	cent      []float32 // IVF centroids, nlist×dim unit vectors; nil: exact search
	centGen   uint64    // counts the changes of cent (a Placement's validity)
	trainedN  int       // index size the IVF index was trained for
	addsSince int       // Adds since it was installed

	build  *ivfBuild // non-nil while an IVF index is being trained
	builds sync.WaitGroup
}

// IndexOptions tunes an Index. The zero value is the default.
type IndexOptions struct {
	// Float32 stores vectors as float32 (exact scores, 4 bytes a
	// dimension) instead of int8 codes with a per-vector scale (1 byte a
	// dimension; scores within about 0.003 of the float32 ones).
	Float32 bool
	// ANNMinEntries is the size from which an IVF index answers searches
	// (default DefaultANNMinEntries; negative: always exact).
	ANNMinEntries int
	// NProbe is the number of IVF lists a search scans (default
	// nlist/12 within [16, 48]: 26 of 316 lists at 100k entries).
	NProbe int
}

// DefaultANNMinEntries is the index size from which searches go through
// the IVF index rather than a full scan.
const DefaultANNMinEntries = 4096

// NewIndex returns an empty index for vectors of length dim.
func NewIndex(dim int) *Index {
	return NewIndexWithOptions(dim, IndexOptions{})
}

// NewIndexWithOptions is NewIndex with tuning.
func NewIndexWithOptions(dim int, o IndexOptions) *Index {
	ix := &Index{
		dim:     max(dim, 0),
		quant:   !o.Float32,
		sk:      sketcherFor(max(dim, 1)),
		annMin:  o.ANNMinEntries,
		nprobe:  max(o.NProbe, 0),
		byID:    map[uint64]int32{},
		scratch: make([]float32, max(dim, 0)),
	}
	ix.buckets = []bucket{ix.newBucket(0)}
	switch {
	case ix.annMin == 0:
		ix.annMin = DefaultANNMinEntries
	case ix.annMin < 0:
		ix.annMin = 0
	}
	return ix
}

// Add inserts (or replaces) id's vector. The vector is normalised; one of
// the wrong length, zero or not finite is ignored.
func (ix *Index) Add(id uint64, vec []float32) { ix.AddPlaced(id, vec, Placement{}) }

// AddPlaced is Add for a vector a search just placed (SearchPlaced).
func (ix *Index) AddPlaced(id uint64, vec []float32, p Placement) {
	if len(vec) != ix.dim || ix.dim == 0 {
		return
	}
	ix.mu.Lock()
	if !normalizeInto(ix.scratch, vec) {
		ix.mu.Unlock()
		return
	}
	unit := ix.scratch
	ix.nextSeq++
	seq := ix.nextSeq
	target := ix.bucketFor(unit, p)
	if e, ok := ix.byID[id]; ok {
		ix.seqs[e] = seq
		if ix.bucketOf[e] == target {
			ix.buckets[target].set(int(ix.posOf[e]), unit)
		} else {
			ix.unfile(e)
			ix.file(e, target, unit)
		}
		ix.markDirty(e)
	} else {
		e := ix.newEntry()
		ix.ids[e], ix.seqs[e] = id, seq
		ix.byID[id] = e
		ix.mapPeak = max(ix.mapPeak, len(ix.byID))
		ix.file(e, target, unit)
		ix.markDirty(e)
	}
	ix.addsSince++
	b := ix.maybeStartBuild()
	ix.mu.Unlock()
	if b != nil {
		if ix.syncBuild {
			ix.runBuild(b)
		} else {
			go ix.runBuild(b)
		}
	}
}

// Search returns the entry most similar to vec and its cosine; ok false
// when empty (or vec has the wrong length).
func (ix *Index) Search(vec []float32) (id uint64, score float32, ok bool) {
	return ix.SearchAtLeast(vec, float32(math.Inf(-1)))
}

// SearchAtLeast is Search for a caller that only wants an entry scoring
// minScore or more: entries whose sketch says they cannot come near
// minScore are passed over without being scored (see sketch.go). The
// entry returned, if any, is the best of those scored, with its exact
// score, which may be under minScore (ok is then still true).
func (ix *Index) SearchAtLeast(vec []float32, minScore float32) (id uint64, score float32, ok bool) {
	id, score, ok, _ = ix.SearchPlaced(vec, minScore)
	return id, score, ok
}

// SearchPlaced is SearchAtLeast that also says where vec belongs, for an
// AddPlaced of the same vector.
func (ix *Index) SearchPlaced(vec []float32, minScore float32) (id uint64, score float32, ok bool, place Placement) {
	if len(vec) != ix.dim || ix.dim == 0 {
		return 0, 0, false, Placement{}
	}
	qn := vecNorm(vec)
	if !(qn > 0) || math.IsInf(float64(qn), 0) {
		return 0, 0, false, Placement{}
	}
	sb := scoreBufs.Get().(*searchBuf)
	defer scoreBufs.Put(sb)
	sq := &searchQuery{q: vec, out: &sb.out, hams: &sb.hams, cut: sketchCut(minScore)}
	if sq.cut < sketchBits {
		sq.sk = &sb.sk
		ix.sk.sketch(sq.sk, vec)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if len(ix.byID) == 0 {
		return 0, 0, false, Placement{}
	}
	var e int32
	var d float32
	if ix.cent != nil {
		e, d = ix.searchIVF(sq)
	} else {
		e, d = ix.scan(sq)
	}
	if e < 0 {
		return 0, 0, false, sq.place // nothing near: where it goes still holds
	}
	return ix.ids[e], d / qn, true, sq.place
}

// searchQuery is one search: the query, its sketch and cut (sk nil: no
// cut), and buffers for the kernels' results.
type searchQuery struct {
	q    []float32
	sk   *sketch
	cut  int
	out  *scoreBuf
	hams *[scanChunk]int32

	place Placement // set by an IVF search: the list nearest q
}

// scan searches every bucket: the best entry, -1 if none.
func (ix *Index) scan(sq *searchQuery) (int32, float32) {
	best, be := float32(math.Inf(-1)), int32(-1)
	for i := range ix.buckets {
		best, be = ix.scanBucket(&ix.buckets[i], sq, best, be)
	}
	return be, best
}

// scanChunk is how many vectors a scan scores per kernel call.
const scanChunk = 128

// scoreBuf holds a kernel call's scores. The kernels are called through
// function variables, so a stack array would escape: buffers are pooled,
// with room for a query's sketch.
type scoreBuf = [scanChunk]float32

type searchBuf struct {
	out  scoreBuf
	hams [scanChunk]int32
	sk   sketch
}

var scoreBufs = sync.Pool{New: func() any { return new(searchBuf) }}

// scanBucket returns the better of (best, be) and bk's best entry (among
// those the sketch lets through, when the query has a cut).
func (ix *Index) scanBucket(bk *bucket, sq *searchQuery, best float32, be int32) (float32, int32) {
	if sq.sk != nil {
		return ix.scanBucketSketch(bk, sq, best, be)
	}
	q, out := sq.q, sq.out
	dim, n := ix.dim, bk.len()
	for base := 0; base < n; base += scanChunk {
		m := min(scanChunk, n-base)
		ents := bk.ents[base : base+m]
		if ix.quant {
			dotsI8(q, bk.codes[base*dim:(base+m)*dim], out[:m])
			for i, s := range bk.scales[base : base+m] {
				if d := out[i] * s; d > best {
					best, be = d, ents[i]
				}
			}
		} else {
			dotsF32(q, bk.vecs[base*dim:(base+m)*dim], out[:m])
			for i, d := range out[:m] {
				if d > best {
					best, be = d, ents[i]
				}
			}
		}
	}
	return best, be
}

// scanBucketSketch is scanBucket scoring only the vectors whose sketch is
// within the query's cut.
func (ix *Index) scanBucketSketch(bk *bucket, sq *searchQuery, best float32, be int32) (float32, int32) {
	dim, cut, hs := ix.dim, int32(sq.cut), sq.hams
	for base := 0; base < len(bk.ents); base += scanChunk {
		m := min(scanChunk, len(bk.ents)-base)
		hammings(sq.sk, bk.sk[base*sketchWords:(base+m)*sketchWords], hs[:m])
		for j, h := range hs[:m] {
			if h > cut {
				continue
			}
			i := base + j
			var d float32
			if ix.quant {
				d = dotI8(sq.q, bk.codes[i*dim:]) * bk.scales[i]
			} else {
				d = dotF32(sq.q, bk.vecs[i*dim:])
			}
			if d > best {
				best, be = d, bk.ents[i]
			}
		}
	}
	return best, be
}

// Remove drops id's entry and reports whether there was one.
func (ix *Index) Remove(id uint64) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	e, ok := ix.byID[id]
	if !ok {
		return false
	}
	ix.removeEntry(e)
	ix.afterShrink()
	return true
}

// Len returns the number of entries.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byID)
}

// Bytes of bookkeeping per map entry (Go's swiss tables: 8-byte key,
// 4-byte value padded, control byte, 7/8 load factor) and per Index.
const (
	mapEntryBytes = 20
	indexBytes    = 512
)

// MemoryBytes returns the approximate bytes the index holds: vectors and
// bookkeeping, by capacity, and an IVF index in training.
func (ix *Index) MemoryBytes() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	b := indexBytes + ix.mapPeak*mapEntryBytes + 4*cap(ix.scratch) + 4*cap(ix.cent)
	b += 8*cap(ix.ids) + 8*cap(ix.seqs) + 4*cap(ix.bucketOf) + 4*cap(ix.posOf) + 4*cap(ix.free)
	for i := range ix.buckets {
		b += ix.buckets[i].bytes()
	}
	if ix.build != nil {
		b += ix.build.bytes()
	}
	return b
}

// newEntry returns a free entry number, growing the per-entry arrays if
// there is none.
func (ix *Index) newEntry() int32 {
	if n := len(ix.free); n > 0 {
		e := ix.free[n-1]
		ix.free = ix.free[:n-1]
		return e
	}
	ix.ids = append(ix.ids, 0)
	ix.seqs = append(ix.seqs, 0)
	ix.bucketOf = append(ix.bucketOf, 0)
	ix.posOf = append(ix.posOf, 0)
	return int32(len(ix.ids) - 1)
}

// removeEntry drops entry e.
func (ix *Index) removeEntry(e int32) {
	ix.unfile(e)
	delete(ix.byID, ix.ids[e])
	ix.seqs[e] = 0
	ix.free = append(ix.free, e)
	ix.markDirty(e)
}

// file stores entry e's unit vector v in bucket b.
func (ix *Index) file(e, b int32, v []float32) {
	bk := &ix.buckets[b]
	ix.bucketOf[e], ix.posOf[e] = b, int32(bk.len())
	bk.add(e, v)
}

// unfile takes entry e's vector out of its bucket.
func (ix *Index) unfile(e int32) {
	if moved := ix.buckets[ix.bucketOf[e]].remove(int(ix.posOf[e])); moved >= 0 {
		ix.posOf[moved] = ix.posOf[e]
		ix.markDirty(moved)
	}
}

// markDirty tells an IVF build in progress that entry e changed or moved.
func (ix *Index) markDirty(e int32) {
	if ix.build != nil {
		ix.build.dirty = append(ix.build.dirty, e)
	}
}

// afterShrink drops the IVF index of an index that got small, and gives
// memory back once the entry arrays are four times larger than needed.
func (ix *Index) afterShrink() {
	n := len(ix.byID)
	if ix.annMin > 0 && n < ix.annMin/2 {
		ix.build = nil // a build in progress sees it and stops
		if ix.cent != nil {
			ix.dropIVF()
		}
	}
	if ix.build == nil && len(ix.ids) > 64 && n < len(ix.ids)/4 {
		ix.compactEntries()
	}
}

// dropIVF merges the buckets into one for exact search.
func (ix *Index) dropIVF() {
	one := ix.newBucket(len(ix.byID))
	for i := range ix.buckets {
		bk := &ix.buckets[i]
		for p, e := range bk.ents {
			ix.bucketOf[e], ix.posOf[e] = 0, int32(one.len())
			one.addFrom(e, bk, p)
		}
	}
	ix.buckets, ix.cent, ix.trainedN, ix.addsSince = []bucket{one}, nil, 0, 0
	ix.centGen++
}

// compactEntries renumbers the live entries 0..n-1 (in bucket order) into
// arrays of twice that capacity, and remakes the map.
func (ix *Index) compactEntries() {
	n := len(ix.byID)
	c := max(2*n, 16)
	ids, seqs := make([]uint64, n, c), make([]uint64, n, c)
	bucketOf, posOf := make([]int32, n, c), make([]int32, n, c)
	byID := make(map[uint64]int32, n)
	k := int32(0)
	for b := range ix.buckets {
		bk := &ix.buckets[b]
		for p, e := range bk.ents {
			ids[k], seqs[k] = ix.ids[e], ix.seqs[e]
			bucketOf[k], posOf[k] = int32(b), int32(p)
			byID[ids[k]] = k
			bk.ents[p] = k
			k++
		}
	}
	ix.ids, ix.seqs, ix.bucketOf, ix.posOf = ids, seqs, bucketOf, posOf
	ix.free, ix.byID, ix.mapPeak = nil, byID, n
}

// bucket holds vectors contiguously with their entry numbers.
type bucket struct {
	dim    int
	quant  bool
	ents   []int32
	codes  []int8    // quant: dim codes a vector
	scales []float32 // quant
	vecs   []float32 // !quant: dim floats a vector
	skr    *sketcher
	sk     []uint64 // sketchWords a vector: its sketch
}

func (ix *Index) newBucket(capacity int) bucket {
	bk := bucket{dim: ix.dim, quant: ix.quant, ents: make([]int32, 0, capacity), skr: ix.sk,
		sk: make([]uint64, 0, capacity*sketchWords)}
	if ix.quant {
		bk.codes, bk.scales = make([]int8, 0, capacity*ix.dim), make([]float32, 0, capacity)
	} else {
		bk.vecs = make([]float32, 0, capacity*ix.dim)
	}
	return bk
}

func (bk *bucket) len() int { return len(bk.ents) }

// add appends entry e with unit vector v.
func (bk *bucket) add(e int32, v []float32) {
	n := len(bk.ents)
	bk.ents = append(bk.ents, e)
	bk.sk = slices.Grow(bk.sk, sketchWords)[:(n+1)*sketchWords]
	if bk.quant {
		bk.codes = slices.Grow(bk.codes, bk.dim)[:(n+1)*bk.dim]
		bk.scales = append(bk.scales, 0)
	} else {
		bk.vecs = slices.Grow(bk.vecs, bk.dim)[:(n+1)*bk.dim]
	}
	bk.set(n, v)
}

// addFrom appends entry e with the vector at position p of src, as stored
// (no requantisation).
func (bk *bucket) addFrom(e int32, src *bucket, p int) {
	bk.ents = append(bk.ents, e)
	d, w := bk.dim, sketchWords
	bk.sk = append(bk.sk, src.sk[p*w:(p+1)*w]...)
	if bk.quant {
		bk.codes = append(bk.codes, src.codes[p*d:(p+1)*d]...)
		bk.scales = append(bk.scales, src.scales[p])
	} else {
		bk.vecs = append(bk.vecs, src.vecs[p*d:(p+1)*d]...)
	}
}

// set stores unit vector v at position p.
func (bk *bucket) set(p int, v []float32) {
	d, w := bk.dim, sketchWords
	bk.skr.sketch((*sketch)(bk.sk[p*w:(p+1)*w]), v)
	if bk.quant {
		bk.scales[p] = quantizeI8(bk.codes[p*d:(p+1)*d], v)
	} else {
		copy(bk.vecs[p*d:(p+1)*d], v)
	}
}

// vecInto writes the vector at position p (dequantised) into dst.
func (bk *bucket) vecInto(dst []float32, p int) {
	d := bk.dim
	if bk.quant {
		dequantizeI8(dst, bk.codes[p*d:(p+1)*d], bk.scales[p])
	} else {
		copy(dst, bk.vecs[p*d:(p+1)*d])
	}
}

// remove drops position p, moving the last vector into it, and returns
// that vector's entry (-1 if p was last). A bucket left a quarter full
// gives memory back.
func (bk *bucket) remove(p int) (moved int32) {
	last, d, w := len(bk.ents)-1, bk.dim, sketchWords
	moved = -1
	if p != last {
		moved = bk.ents[last]
		bk.ents[p] = moved
		copy(bk.sk[p*w:(p+1)*w], bk.sk[last*w:])
		if bk.quant {
			copy(bk.codes[p*d:(p+1)*d], bk.codes[last*d:])
			bk.scales[p] = bk.scales[last]
		} else {
			copy(bk.vecs[p*d:(p+1)*d], bk.vecs[last*d:])
		}
	}
	bk.ents, bk.sk = bk.ents[:last], bk.sk[:last*w]
	if bk.quant {
		bk.codes, bk.scales = bk.codes[:last*d], bk.scales[:last]
	} else {
		bk.vecs = bk.vecs[:last*d]
	}
	if c := cap(bk.ents); c > 32 && last < c/4 {
		nc := 2 * last
		bk.ents = append(make([]int32, 0, nc), bk.ents...)
		bk.sk = append(make([]uint64, 0, nc*w), bk.sk...)
		if bk.quant {
			bk.codes = append(make([]int8, 0, nc*d), bk.codes...)
			bk.scales = append(make([]float32, 0, nc), bk.scales...)
		} else {
			bk.vecs = append(make([]float32, 0, nc*d), bk.vecs...)
		}
	}
	return moved
}

func (bk *bucket) reset() {
	bk.ents, bk.codes, bk.scales, bk.vecs, bk.sk = bk.ents[:0], bk.codes[:0], bk.scales[:0], bk.vecs[:0], bk.sk[:0]
}

func (bk *bucket) bytes() int {
	return 104 + 4*cap(bk.ents) + cap(bk.codes) + 4*cap(bk.scales) + 4*cap(bk.vecs) + 8*cap(bk.sk)
}
