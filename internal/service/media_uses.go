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

// Refs returns the live media among ids (deleted and unknown ids are left
// out) in one query, for previews of image blocks.
func (s *Media) Refs(ctx context.Context, p *quire.Principal, ids []string) (map[string]store.MediaRef, error) {
	if err := require(p, quire.RoleViewer); err != nil {
		return nil, err
	}
	return s.db.Reader().LiveMedia(ctx, ids)
}
