package quire

import "time"

// ActionRevisionsPrune is the one audit entry per page and pruning run.
const ActionRevisionsPrune = "page.revisions_prune"

// RetentionPolicy says which revisions of a page survive a prune. A
// revision is kept when any rule keeps it: it is published, a live
// preview link shows it, it is among the page's KeepLast newest, or it is
// younger than KeepFor.
type RetentionPolicy struct {
	KeepLast int
	KeepFor  time.Duration
}
