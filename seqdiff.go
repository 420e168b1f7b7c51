package quire

// editKind is one step of an edit script between two sequences.
type editKind int8

const (
	editEqual editKind = iota
	editDelete
	editInsert
)

// edit says what happens to a[A] (equal, delete) or b[B] (equal, insert).
type edit struct {
	Kind editKind
	A, B int
}

// maxEditDistance bounds the work of diffSeq: Myers' algorithm costs
// O((N+M)·D) time and O(D²) memory, and D is unbounded for unrelated
// inputs. Beyond it the differing middle is reported as deleted and
// inserted whole, which is correct, only less precise.
const maxEditDistance = 1000

// diffSeq returns a shortest edit script from a to b (Myers, 1986), after
// setting aside the common prefix and suffix, where edits usually are not.
func diffSeq[T comparable](a, b []T) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	out := make([]edit, 0, len(a)+len(b)-pre-suf)
	for i := 0; i < pre; i++ {
		out = append(out, edit{editEqual, i, i})
	}
	am, bm := a[pre:len(a)-suf], b[pre:len(b)-suf]
	for _, e := range diffMiddle(am, bm) {
		out = append(out, edit{e.Kind, e.A + pre, e.B + pre})
	}
	for i := 0; i < suf; i++ {
		out = append(out, edit{editEqual, len(a) - suf + i, len(b) - suf + i})
	}
	return out
}

// diffMiddle runs Myers on the elements that occur on both sides only: an
// element the other side lacks can never be matched, so setting it aside
// keeps the script shortest, and a rewritten text (no word in common)
// costs nothing. The set-aside elements are deleted or inserted in place.
func diffMiddle[T comparable](a, b []T) []edit {
	inA := make(map[T]bool, len(a))
	for _, x := range a {
		inA[x] = true
	}
	inB := make(map[T]bool, len(b))
	for _, x := range b {
		inB[x] = true
	}
	var fa, fb []T
	var ia, ib []int // original index of each kept element
	for i, x := range a {
		if inB[x] {
			fa, ia = append(fa, x), append(ia, i)
		}
	}
	for j, x := range b {
		if inA[x] {
			fb, ib = append(fb, x), append(ib, j)
		}
	}
	script, ok := myers(fa, fb)
	if !ok { // too far apart: everything goes and comes
		script = script[:0]
		for i := range fa {
			script = append(script, edit{Kind: editDelete, A: i})
		}
		for j := range fb {
			script = append(script, edit{Kind: editInsert, B: j})
		}
	}
	out := make([]edit, 0, len(a)+len(b))
	na, nb := 0, 0 // next original index of a and b not yet emitted
	flushA := func(upto int) {
		for ; na < upto; na++ {
			out = append(out, edit{Kind: editDelete, A: na})
		}
	}
	flushB := func(upto int) {
		for ; nb < upto; nb++ {
			out = append(out, edit{Kind: editInsert, B: nb})
		}
	}
	for _, e := range script {
		switch e.Kind {
		case editEqual:
			flushA(ia[e.A])
			flushB(ib[e.B])
			out = append(out, edit{editEqual, ia[e.A], ib[e.B]})
			na, nb = na+1, nb+1
		case editDelete:
			flushA(ia[e.A])
			out = append(out, edit{Kind: editDelete, A: ia[e.A]})
			na++
		case editInsert:
			flushB(ib[e.B])
			out = append(out, edit{Kind: editInsert, B: ib[e.B]})
			nb++
		}
	}
	flushA(len(a))
	flushB(len(b))
	return out
}

// myers is the greedy forward algorithm with a trace of the furthest
// reaching x per diagonal k, kept per step only for the diagonals that step
// can read (-d-1 … d+1), so memory is O(D²) rather than O((N+M)·D).
func myers[T comparable](a, b []T) ([]edit, bool) {
	n, m := len(a), len(b)
	if n == 0 && m == 0 {
		return nil, true
	}
	maxD := min(n+m, maxEditDistance)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(trace, n, m), true
			}
		}
	}
	return nil, false
}

func backtrack(trace [][]int, x, y int) []edit {
	var rev []edit
	for d := len(trace) - 1; d >= 0; d-- {
		v := trace[d] // v[i] is diagonal i-d-1
		at := func(k int) int { return v[k+d+1] }
		k := x - y
		var prevK int
		if d == 0 {
			prevK = 0
		} else if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := 0
		if d > 0 {
			prevX = at(prevK)
		}
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, edit{editEqual, x, y})
		}
		if d == 0 {
			break
		}
		if prevK == k+1 {
			rev = append(rev, edit{Kind: editInsert, B: prevY})
		} else {
			rev = append(rev, edit{Kind: editDelete, A: prevX})
		}
		x, y = prevX, prevY
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}
