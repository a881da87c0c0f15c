package retrieval

// hit is a candidate result: a row of the matrix and its score.
type hit struct {
	score float32
	id    uint64
	row   int
}

// worse orders hits: a lower score is worse, and at equal scores the older
// entry (lower id) is worse, so newer entries win ties.
func worse(a, b hit) bool {
	return a.score < b.score || a.score == b.score && a.id < b.id
}

// topK keeps the k best hits seen in a min-heap whose root is the worst.
type topK struct {
	k int
	h []hit
}

// newTopK returns an empty top-k of capacity k.
func newTopK(k, hint int) topK { return topK{k: k, h: make([]hit, 0, min(k, hint))} }

// admits reports whether a hit with this score and id would enter.
func (t *topK) admits(score float32, id uint64) bool {
	return len(t.h) < t.k || worse(t.h[0], hit{score: score, id: id})
}

// push adds x, dropping the worst hit when full. Call it only when admits.
func (t *topK) push(x hit) {
	if len(t.h) < t.k {
		t.h = append(t.h, x)
		t.up(len(t.h) - 1)
		return
	}
	t.h[0] = x
	t.down(0)
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !worse(t.h[i], t.h[p]) {
			return
		}
		t.h[i], t.h[p] = t.h[p], t.h[i]
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && worse(t.h[r], t.h[l]) {
			c = r
		}
		if !worse(t.h[c], t.h[i]) {
			return
		}
		t.h[i], t.h[c] = t.h[c], t.h[i]
		i = c
	}
}

// sorted empties the heap and returns its hits best first.
func (t *topK) sorted() []hit {
	out := make([]hit, len(t.h))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = t.h[0]
		last := len(t.h) - 1
		t.h[0] = t.h[last]
		t.h = t.h[:last]
		t.down(0)
	}
	return out
}
