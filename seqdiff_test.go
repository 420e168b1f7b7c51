package quire

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// apply rebuilds b from a and the script, and counts the edits.
func apply(t *testing.T, a, b []string, script []edit) (got []string, edits int) {
	t.Helper()
	ai := 0
	for _, e := range script {
		switch e.Kind {
		case editEqual:
			if e.A != ai || a[e.A] != b[e.B] {
				t.Fatalf("bad equal %+v", e)
			}
			got = append(got, a[e.A])
			ai++
		case editDelete:
			if e.A != ai {
				t.Fatalf("delete out of order %+v at %d", e, ai)
			}
			ai++
			edits++
		case editInsert:
			got = append(got, b[e.B])
			edits++
		}
	}
	if ai != len(a) {
		t.Fatalf("script consumed %d of %d", ai, len(a))
	}
	return got, edits
}

// lcs is the textbook dynamic programme, to check that Myers is minimal.
func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func TestDiffSeqIsAShortestScript(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = string(rune('a' + r.IntN(4)))
		}
		return out
	}
	cases := [][2][]string{{nil, nil}, {nil, {"x"}}, {{"x"}, nil}, {strings.Fields("a b c"), strings.Fields("a b c")},
		{strings.Fields("the quick brown fox"), strings.Fields("the slow brown dog")}}
	for i := 0; i < 300; i++ {
		cases = append(cases, [2][]string{words(r.IntN(30)), words(r.IntN(30))})
	}
	for _, c := range cases {
		a, b := c[0], c[1]
		got, edits := apply(t, a, b, diffSeq(a, b))
		if strings.Join(got, " ") != strings.Join(b, " ") {
			t.Fatalf("%v → %v rebuilt %v", a, b, got)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("%v → %v: %d edits, shortest is %d", a, b, edits, want)
		}
	}
}

func TestDiffSeqGivesUpGracefullyOnUnrelatedInput(t *testing.T) {
	a, b := make([]int, 3000), make([]int, 3000)
	for i := range a {
		a[i], b[i] = i, -i-1
	}
	script := diffSeq(a, b)
	if len(script) != 6000 {
		t.Fatalf("%d edits, want every element deleted and inserted", len(script))
	}
}
