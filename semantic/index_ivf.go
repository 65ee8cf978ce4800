package semantic

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
)

// The IVF (inverted file) index of a large Index: k-means centroids over
// the vectors, each vector stored in the bucket of its nearest centroid. A
// search ranks the centroids and scans the buckets of the nprobe nearest.
//
// Training happens aside, in runBuild, into buckets private to the build:
//
//  1. a stratified sample of the vectors is copied out under the read lock;
//  2. k-means runs on it with no lock held;
//  3. every bucket is copied out chunk by chunk under the read lock, and
//     each vector filed, with no lock held, in the new bucket of its
//     nearest new centroid;
//  4. meanwhile every Add, Remove, eviction and move inside a bucket marks
//     the entry dirty; the dirty entries are brought up to date the same
//     way (an entry's Add sequence number tells whether the copy held is
//     current), round after round, until few are left;
//  5. under the write lock the last dirty entries are brought up to date
//     and the new centroids and buckets replace the old ones: pointer
//     swaps.
//
// Searches meanwhile use the previous IVF index, or the exact scan; the
// write lock is only held for short rounds, and the build yields the
// processor every few dozen vectors so that searches are not kept waiting
// for one (this matters with few cores).

const (
	trainPerList   = 24   // k-means sample: this many vectors a list
	kmeansIters    = 10   // at most; stops early once assignments settle
	buildChunk     = 1024 // vectors copied out per read-locked round
	yieldEvery     = 32   // vectors a build assigns between runtime.Gosched calls
	finishUnder    = 64   // dirty entries left for the write-locked final step
	maxDrainRounds = 8
	maxProbe       = 256
	minLists       = 16
)

// ivfBuild is an IVF index in training.
type ivfBuild struct {
	dirty    []int32 // entries changed since the build started (under ix.mu)
	estimate int     // bytes it will hold, for MemoryBytes

	// Private to the goroutine running the build.
	cent     []float32
	buckets  []bucket
	seqOf    []uint64 // per entry: Add sequence of the copy held, 0 none
	bucketOf []int32
	posOf    []int32
	trainedN int
}

func (b *ivfBuild) bytes() int { return 4*cap(b.dirty) + b.estimate }

// ivfLists is the list count for n vectors: √n.
func ivfLists(n int) int {
	return max(int(math.Sqrt(float64(n))), minLists)
}

// probes is the number of lists a search scans.
func (ix *Index) probes(nlist int) int {
	p := ix.nprobe
	if p == 0 {
		p = min(max(16, nlist/12), 48)
	}
	return min(p, nlist, maxProbe)
}

func nearestCentroid(cent []float32, dim int, u []float32) int32 {
	sb := scoreBufs.Get().(*searchBuf)
	defer scoreBufs.Put(sb)
	out := &sb.out
	best, bc := float32(math.Inf(-1)), int32(0)
	nc := len(cent) / dim
	for base := 0; base < nc; base += scanChunk {
		m := min(scanChunk, nc-base)
		dotsF32(u, cent[base*dim:(base+m)*dim], out[:m])
		for i, d := range out[:m] {
			if d > best {
				best, bc = d, int32(base+i)
			}
		}
	}
	return bc
}

// bucketFor is the bucket a new unit vector goes to: the nearest list,
// which p (from a search for the same vector) may know already.
func (ix *Index) bucketFor(u []float32, p Placement) int32 {
	if ix.cent == nil {
		return 0
	}
	if p.ix == ix && p.gen == ix.centGen {
		return p.list
	}
	return nearestCentroid(ix.cent, ix.dim, u)
}

// Placement is where a search found a vector belongs: the IVF list whose
// centroid is nearest it, in the index as it was then. Adding the same
// vector with it spares ranking the centroids again (a miss's search and
// its add are the same question); once the IVF index is retrained or
// dropped it no longer applies and is ignored. The zero value knows
// nothing.
type Placement struct {
	ix   *Index
	gen  uint64
	list int32
}

// searchIVF is the approximate search: the best entry in the buckets
// of the nprobe centroids nearest q, -1 if none.
func (ix *Index) searchIVF(sq *searchQuery) (int32, float32) {
	q, out := sq.q, sq.out
	dim, nlist := ix.dim, len(ix.buckets)
	np := ix.probes(nlist)
	var topS [maxProbe]float32
	var topL [maxProbe]int32
	k := 0
	for base := 0; base < nlist; base += scanChunk {
		m := min(scanChunk, nlist-base)
		dotsF32(q, ix.cent[base*dim:(base+m)*dim], out[:m])
		for i, d := range out[:m] {
			if k == np && !(d > topS[np-1]) {
				continue
			}
			j := k
			if k < np {
				k++
			} else {
				j = np - 1
			}
			for j > 0 && topS[j-1] < d {
				topS[j], topL[j] = topS[j-1], topL[j-1]
				j--
			}
			topS[j], topL[j] = d, int32(base+i)
		}
	}
	if k > 0 {
		sq.place = Placement{ix: ix, gen: ix.centGen, list: topL[0]}
	}
	best, be := float32(math.Inf(-1)), int32(-1)
	for _, l := range topL[:k] {
		best, be = ix.scanBucket(&ix.buckets[l], sq, best, be)
	}
	if be < 0 && sq.sk == nil { // the lists probed are empty: look further
		return ix.scan(sq)
	}
	return be, best
}

// maybeStartBuild starts training an IVF index when the index has reached
// the threshold, doubled since the last training, or turned over twice.
// Called with the write lock held; the caller runs the returned build after
// unlocking.
func (ix *Index) maybeStartBuild() *ivfBuild {
	if ix.annMin == 0 || ix.build != nil {
		return nil
	}
	n := len(ix.byID)
	if n < ix.annMin {
		return nil
	}
	if ix.cent != nil && n < 2*ix.trainedN && ix.addsSince < 2*ix.trainedN {
		return nil
	}
	b := &ivfBuild{}
	for i := range ix.buckets {
		b.estimate += ix.buckets[i].bytes()
	}
	ix.build = b
	ix.builds.Add(1)
	return b
}

// runBuild trains and installs the IVF index b, unless the index drops it
// meanwhile (ix.build != b); then starts the next one if the index has
// outgrown it already.
func (ix *Index) runBuild(b *ivfBuild) {
	for b != nil {
		b = ix.buildOnce(b)
	}
}

func (ix *Index) buildOnce(b *ivfBuild) (next *ivfBuild) {
	defer ix.builds.Done()
	dim := ix.dim

	// 1. A stratified sample.
	ix.mu.RLock()
	if ix.build != b {
		ix.mu.RUnlock()
		return nil
	}
	n := len(ix.byID)
	nlist := ivfLists(n)
	m := min(n, nlist*trainPerList)
	r := rand.New(rand.NewPCG(ix.nextSeq, uint64(n)))
	train := make([]float32, m*dim)
	target := func(j int) int { // one vector from each of m equal strides
		lo, hi := j*n/m, (j+1)*n/m
		return lo + r.IntN(max(hi-lo, 1))
	}
	j, base, t := 0, 0, target(0)
	for bi := range ix.buckets {
		bk := &ix.buckets[bi]
		for j < m && t-base < bk.len() {
			bk.vecInto(train[j*dim:(j+1)*dim], t-base)
			if j++; j < m {
				t = target(j)
			}
		}
		base += bk.len()
	}
	ix.mu.RUnlock()

	// 2. k-means.
	b.cent = kmeans(train[:j*dim], dim, nlist, r)
	b.trainedN = n
	train = nil
	nlist = len(b.cent) / dim
	b.buckets = make([]bucket, nlist)
	for i := range b.buckets {
		b.buckets[i] = ix.newBucket(n/nlist + n/nlist/4)
	}

	// 3. File every vector.
	tmp := ix.newBucket(buildChunk)
	seqs := make([]uint64, buildChunk)
	buf := make([]float32, dim)
	bi, pos := 0, 0
	for {
		ix.mu.RLock()
		if ix.build != b {
			ix.mu.RUnlock()
			return nil
		}
		tmp.reset()
		for bi < len(ix.buckets) && tmp.len() < buildChunk {
			bk := &ix.buckets[bi]
			if pos >= bk.len() {
				bi, pos = bi+1, 0
				continue
			}
			e := bk.ents[pos]
			seqs[tmp.len()] = ix.seqs[e]
			tmp.addFrom(e, bk, pos)
			pos++
		}
		entries := len(ix.ids)
		ix.mu.RUnlock()
		if tmp.len() == 0 {
			break
		}
		b.place(&tmp, seqs, nil, entries, buf, true)
		if ix.buildHook != nil {
			ix.buildHook()
		}
	}

	// 4, 5. Bring the dirty entries up to date; install.
	for round := 0; ; round++ {
		if round == 0 {
			b.trim() // the buckets were sized on the average list length
		}
		ix.mu.Lock()
		if ix.build != b {
			ix.mu.Unlock()
			return nil
		}
		dirty := b.dirty
		b.dirty = nil
		if len(dirty) <= finishUnder || round >= maxDrainRounds {
			slices.Sort(dirty)
			dirty = slices.Compact(dirty)
			for len(dirty) > 0 {
				c := dirty[:min(len(dirty), buildChunk)]
				dirty = dirty[len(c):]
				gone := b.collect(ix, c, &tmp, seqs)
				b.place(&tmp, seqs, gone, len(ix.ids), buf, false)
			}
			ix.installIVF(b)
			next = ix.maybeStartBuild()
			ix.mu.Unlock()
			return next
		}
		ix.mu.Unlock()
		slices.Sort(dirty)
		dirty = slices.Compact(dirty)
		for len(dirty) > 0 {
			c := dirty[:min(len(dirty), buildChunk)]
			dirty = dirty[len(c):]
			ix.mu.RLock()
			if ix.build != b {
				ix.mu.RUnlock()
				return nil
			}
			gone := b.collect(ix, c, &tmp, seqs)
			entries := len(ix.ids)
			ix.mu.RUnlock()
			b.place(&tmp, seqs, gone, entries, buf, true)
			if ix.buildHook != nil {
				ix.buildHook()
			}
		}
	}
}

// collect copies into tmp (and their sequence numbers into seqs) the
// entries among dirty whose copy in the build is missing or stale, and
// returns those the build holds that are gone. Called with ix.mu held.
func (b *ivfBuild) collect(ix *Index, dirty []int32, tmp *bucket, seqs []uint64) (gone []int32) {
	tmp.reset()
	for _, e := range dirty {
		var held uint64
		if int(e) < len(b.seqOf) {
			held = b.seqOf[e]
		}
		cur := ix.seqs[e]
		switch {
		case cur == held:
		case cur == 0:
			gone = append(gone, e)
		default:
			seqs[tmp.len()] = cur
			tmp.addFrom(e, &ix.buckets[ix.bucketOf[e]], int(ix.posOf[e]))
		}
	}
	return gone
}

// place drops the entries gone from the build's buckets and files the
// vectors in tmp (replacing older copies). entries is the index's entry
// count, to size the per-entry arrays; yield lets other goroutines run
// now and then (not when called with the lock held).
func (b *ivfBuild) place(tmp *bucket, seqs []uint64, gone []int32, entries int, buf []float32, yield bool) {
	for len(b.seqOf) < entries {
		b.seqOf = append(b.seqOf, 0)
		b.bucketOf = append(b.bucketOf, 0)
		b.posOf = append(b.posOf, 0)
	}
	for _, e := range gone {
		if b.seqOf[e] != 0 { // dirty lists can name an entry twice
			b.unplace(e)
		}
	}
	for i, e := range tmp.ents {
		if yield && i%yieldEvery == yieldEvery-1 {
			runtime.Gosched()
		}
		if b.seqOf[e] != 0 {
			b.unplace(e)
		}
		tmp.vecInto(buf, i)
		l := nearestCentroid(b.cent, tmp.dim, buf)
		dst := &b.buckets[l]
		b.bucketOf[e], b.posOf[e] = l, int32(dst.len())
		dst.addFrom(e, tmp, i)
		b.seqOf[e] = seqs[i]
	}
}

// trim reallocates the build's buckets with an eighth of headroom.
func (b *ivfBuild) trim() {
	for i := range b.buckets {
		bk := &b.buckets[i]
		c := bk.len() + bk.len()/8 + 4
		if cap(bk.ents) <= c {
			continue
		}
		bk.ents = append(make([]int32, 0, c), bk.ents...)
		bk.sk = append(make([]uint64, 0, c*sketchWords), bk.sk...)
		if bk.quant {
			bk.codes = append(make([]int8, 0, c*bk.dim), bk.codes...)
			bk.scales = append(make([]float32, 0, c), bk.scales...)
		} else {
			bk.vecs = append(make([]float32, 0, c*bk.dim), bk.vecs...)
		}
	}
}

func (b *ivfBuild) unplace(e int32) {
	if moved := b.buckets[b.bucketOf[e]].remove(int(b.posOf[e])); moved >= 0 {
		b.posOf[moved] = b.posOf[e]
	}
	b.seqOf[e] = 0
}

// installIVF makes b the index's IVF index. Called with the write lock
// held, once b holds every live entry's current vector.
func (ix *Index) installIVF(b *ivfBuild) {
	n := len(ix.ids)
	for len(b.bucketOf) < n {
		b.bucketOf = append(b.bucketOf, 0)
		b.posOf = append(b.posOf, 0)
	}
	ix.buckets, ix.cent = b.buckets, b.cent
	ix.centGen++
	ix.bucketOf, ix.posOf = b.bucketOf[:n], b.posOf[:n]
	ix.trainedN, ix.addsSince = b.trainedN, 0
	ix.build = nil
}

// kmeans clusters the unit vectors in data (n×dim) into k unit centroids
// by spherical k-means (assign by largest dot product, centroid = the
// normalised mean), seeded with k distinct sample vectors.
func kmeans(data []float32, dim, k int, r *rand.Rand) []float32 {
	n := len(data) / dim
	k = max(min(k, n), 1)
	cent := make([]float32, k*dim)
	if n == 0 {
		cent[0] = 1
		return cent
	}
	for c, i := range r.Perm(n)[:k] {
		copy(cent[c*dim:(c+1)*dim], data[i*dim:(i+1)*dim])
	}
	assign := make([]int32, n)
	for i := range assign {
		assign[i] = -1
	}
	sums := make([]float32, k*dim)
	counts := make([]int, k)
	for it := range kmeansIters {
		changed := 0
		for i := range n {
			if i%yieldEvery == yieldEvery-1 {
				runtime.Gosched()
			}
			if c := nearestCentroid(cent, dim, data[i*dim:(i+1)*dim]); c != assign[i] {
				assign[i] = c
				changed++
			}
		}
		if it > 0 && changed <= n/200 {
			break
		}
		clear(sums)
		clear(counts)
		for i, c := range assign {
			counts[c]++
			sum, x := sums[int(c)*dim:int(c+1)*dim], data[i*dim:(i+1)*dim]
			for j := range sum {
				sum[j] += x[j]
			}
		}
		for c := range k {
			dst := cent[c*dim : (c+1)*dim]
			if counts[c] == 0 || !normalizeInto(dst, sums[c*dim:(c+1)*dim]) {
				copy(dst, data[r.IntN(n)*dim:]) // an empty cluster: reseed it
			}
		}
	}
	return cent
}
