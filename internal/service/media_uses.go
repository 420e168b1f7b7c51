package service

import (
	"context"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/store"
)

// UsedBy returns the pages whose working copy or published revision shows
// media id, for the admin's "used by" list: the same check delete and
// purge make, readable by anyone who may see the media.
func (s *Media) UsedBy(ctx context.Context, p *quire.Principal, id string) ([]store.MediaUse, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	return s.db.Reader().MediaUses(ctx, id)
}
