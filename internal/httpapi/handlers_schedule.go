package httpapi

import (
	"net/http"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

func (a *API) getSchedule(w http.ResponseWriter, r *http.Request) {
	s, err := a.Pages.GetSchedule(r.Context(), principal(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (a *API) schedulePage(w http.ResponseWriter, r *http.Request) {
	var in service.ScheduleInput
	versionedWrite(w, r, &in, http.StatusOK, writeSchedule, func(p *quire.Principal, version int64) (*quire.PageSchedule, error) {
		return a.Pages.Schedule(r.Context(), p, r.PathValue("id"), version, in)
	})
}

func (a *API) cancelSchedule(w http.ResponseWriter, r *http.Request) {
	versionedDelete(w, r, func(p *quire.Principal, version int64) error {
		return a.Pages.CancelSchedule(r.Context(), p, r.PathValue("id"), version)
	})
}

func writeSchedule(w http.ResponseWriter, status int, s *quire.PageSchedule) { writeJSON(w, status, s) }
