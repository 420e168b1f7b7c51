package admin

import "net/http"

// routes registers every screen that needs a signed-in user.
func (a *Admin) routes(mux *http.ServeMux) {
	s := a.signedIn
	mux.HandleFunc("GET "+Prefix+"/{$}", s(a.dashboard))
	mux.HandleFunc("GET "+Prefix+"/account", s(a.account))
	mux.HandleFunc("POST "+Prefix+"/account/logout-all", s(a.logoutAll))
	mux.HandleFunc("POST "+Prefix+"/account/password", s(a.changePassword))

	mux.HandleFunc("GET "+Prefix+"/pages", s(a.pageList))
	mux.HandleFunc("GET "+Prefix+"/pages/new", s(a.newPageForm))
	mux.HandleFunc("POST "+Prefix+"/pages", s(a.createPage))
	mux.HandleFunc("POST "+Prefix+"/pages/{id}/delete", s(a.deletePage))
}
