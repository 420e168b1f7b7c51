package admin

import "net/http"

// routes registers every screen that needs a signed-in user.
func (a *Admin) routes(mux *http.ServeMux) {
	s := a.signedIn
	mux.HandleFunc("GET "+Prefix+"/{$}", s(a.dashboard))
	mux.HandleFunc("GET "+Prefix+"/account", s(a.account))
	mux.HandleFunc("POST "+Prefix+"/account/logout-all", s(a.logoutAll))
	mux.HandleFunc("POST "+Prefix+"/account/password", s(a.changePassword))
	mux.HandleFunc("POST "+Prefix+"/account/sessions/{id}/end", s(a.endSession))
	mux.HandleFunc("GET "+enrolPath, s(a.enrolForm))
	mux.HandleFunc("POST "+enrolPath+"/start", s(a.startEnrol))
	mux.HandleFunc("POST "+enrolPath+"/confirm", s(a.confirmEnrol))
	mux.HandleFunc("POST "+enrolPath+"/disable", s(a.disableTwoFactor))
	mux.HandleFunc("POST "+Prefix+"/account/passkeys/options", s(a.passkeyOptions))
	mux.HandleFunc("POST "+Prefix+"/account/passkeys", s(a.addPasskey))
	mux.HandleFunc("POST "+Prefix+"/account/passkeys/{id}/rename", s(a.renamePasskey))
	mux.HandleFunc("POST "+Prefix+"/account/passkeys/{id}/remove", s(a.removePasskey))

	mux.HandleFunc("GET "+Prefix+"/pages", s(a.pageList))
	mux.HandleFunc("GET "+Prefix+"/pages/new", s(a.newPageForm))
	mux.HandleFunc("POST "+Prefix+"/pages", s(a.createPage))
	mux.HandleFunc("POST "+Prefix+"/pages/{id}/delete", s(a.deletePage))
	mux.HandleFunc("GET "+Prefix+"/pages/{id}", s(a.editor))
	mux.HandleFunc("POST "+Prefix+"/pages/{id}/save", s(a.save))
	mux.HandleFunc("POST "+Prefix+"/pages/{id}/draft", s(a.saveDraft))
	mux.HandleFunc("POST "+Prefix+"/pages/{id}/publish", s(a.publish))
	mux.HandleFunc("POST "+Prefix+"/pages/{id}/unpublish", s(a.unpublish))
	mux.HandleFunc("GET "+Prefix+"/pages/{id}/history", s(a.history))
	mux.HandleFunc("GET "+Prefix+"/pages/{id}/revisions/{rid}", s(a.revision))
	mux.HandleFunc("POST "+Prefix+"/pages/{id}/revisions/{rid}/restore", s(a.restore))

	mux.HandleFunc("GET "+Prefix+"/media", s(a.library))
	mux.HandleFunc("GET "+Prefix+"/media/{id}", s(a.mediaEdit))
	mux.HandleFunc("POST "+Prefix+"/media/{id}", s(a.mediaUpdate))
	mux.HandleFunc("POST "+Prefix+"/media/{id}/delete", s(a.mediaDelete))
	mux.HandleFunc("POST "+Prefix+"/media/{id}/restore", s(a.mediaRestore))
	mux.HandleFunc("POST "+Prefix+"/media/{id}/purge", s(a.mediaPurge))
	mux.HandleFunc("GET "+Prefix+"/settings", s(a.settingsList))
	mux.HandleFunc("GET "+Prefix+"/settings/new", s(a.settingEdit))
	mux.HandleFunc("POST "+Prefix+"/settings/new", s(a.settingSave))
	mux.HandleFunc("GET "+Prefix+"/settings/{key}", s(a.settingEdit))
	mux.HandleFunc("POST "+Prefix+"/settings/{key}", s(a.settingSave))
	mux.HandleFunc("POST "+Prefix+"/settings/{key}/delete", s(a.settingDelete))

	mux.HandleFunc("GET "+Prefix+"/users", s(a.users))
	mux.HandleFunc("POST "+Prefix+"/users", s(a.createUser))
	mux.HandleFunc("GET "+Prefix+"/users/{id}", s(a.userEdit))
	mux.HandleFunc("POST "+Prefix+"/users/{id}", s(a.userSave))
	mux.HandleFunc("POST "+Prefix+"/users/{id}/logout-all", s(a.userEndSessions))
	mux.HandleFunc("GET "+Prefix+"/tokens", s(a.tokens))
	mux.HandleFunc("POST "+Prefix+"/tokens", s(a.createToken))
	mux.HandleFunc("POST "+Prefix+"/tokens/{id}/revoke", s(a.revokeToken))

	mux.HandleFunc("GET "+Prefix+"/audit", s(a.auditLog))

	mux.HandleFunc("GET "+Prefix+"/media.json", s(a.mediaPicker))
	mux.HandleFunc("POST "+Prefix+"/media/upload", s(a.upload))
}
