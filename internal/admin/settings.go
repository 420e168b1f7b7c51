package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/quirecms/quire"
	"github.com/quirecms/quire/internal/service"
)

type settingRow struct {
	S     *quire.Setting
	Value string // indented JSON
}

type settingsData struct {
	Rows []settingRow
	Next template.URL
}

// settingsPage is how many settings one screen lists, by key.
const settingsPage = 100

func prettyJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// settingsList is GET /settings of the API: editors read, admins write.
func (a *Admin) settingsList(w http.ResponseWriter, r *http.Request) {
	after := r.URL.Query().Get("after")
	if len(after) > 100 || !utf8.ValidString(after) {
		a.fail(w, r, quire.Errorf(quire.EINVALID, "after is not a setting key"))
		return
	}
	list, err := a.Settings.List(r.Context(), current(r.Context()).P, after, settingsPage+1)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := settingsData{}
	if len(list) > settingsPage {
		list = list[:settingsPage]
		d.Next = template.URL(Prefix + "/settings?after=" + url.QueryEscape(list[len(list)-1].Key)) // escaped
	}
	for _, s := range list {
		d.Rows = append(d.Rows, settingRow{S: s, Value: prettyJSON(s.Value)})
	}
	p := a.newPage(r, "Settings", "settings")
	p.Data = d
	a.render(w, r, http.StatusOK, "settings", p)
}

type settingForm struct {
	New     bool
	Key     string
	Value   string
	Public  bool
	Version int64
}

func (a *Admin) settingEdit(w http.ResponseWriter, r *http.Request) {
	u := current(r.Context())
	key := r.PathValue("key")
	f := settingForm{New: key == "", Value: "\"\""}
	if !f.New {
		s, err := a.Settings.Get(r.Context(), u.P, key)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		f = settingForm{Key: s.Key, Value: prettyJSON(s.Value), Public: s.Public, Version: s.Version}
	} else if !u.P.Can(quire.RoleAdmin) {
		a.status(w, r, nil, http.StatusForbidden, "Only admins change settings.")
		return
	}
	p := a.newPage(r, "Setting "+f.Key, "settings")
	if f.New {
		p.Title = "New setting"
	}
	p.Data = f
	a.render(w, r, http.StatusOK, "setting", p)
}

// settingSave is PUT /settings/{key}: the JSON value is checked here first
// so that a value that does not parse says where, then the service
// validates and stores it with the version the form showed.
func (a *Admin) settingSave(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	key := r.PathValue("key")
	f := settingForm{New: key == "", Key: key, Value: r.PostForm.Get("value"), Public: r.PostForm.Get("public") == "on"}
	if f.New {
		f.Key = strings.TrimSpace(r.PostForm.Get("key"))
	}
	f.Version, _ = formVersion(r)
	var err error
	raw := json.RawMessage(strings.TrimSpace(f.Value))
	var probe any
	if perr := json.Unmarshal(raw, &probe); perr != nil {
		err = quire.Invalid(quire.FieldError{Field: "value", Message: jsonProblem(raw, perr)})
	} else if f.New && a.settingExists(r, f.Key) {
		// PUT creates or replaces; the New form must not replace unseen.
		err = quire.Invalid(quire.FieldError{Field: "key", Message: "is already a setting; open it from the list to change it"})
	} else {
		_, _, err = a.Settings.Put(r.Context(), current(r.Context()).P, f.Key, f.Version, service.SettingInput{Value: raw, Public: &f.Public})
	}
	if code := quire.ErrorCode(err); code == quire.EINVALID || code == quire.ETOOLARGE || code == quire.EPRECONDITION {
		p := a.newPage(r, "Setting "+f.Key, "settings")
		p.Data = f
		p.Fields = fieldErrors(err)
		if code == quire.ETOOLARGE {
			p.Fields = map[string]string{"value": "must be at most 64 KiB of JSON"}
		}
		p.Error = "The setting was not saved."
		if code == quire.EPRECONDITION {
			p.Error = "Someone changed this setting after you opened it; nothing was saved. Open it again to see their value."
		}
		a.render(w, r, httpStatus(err), "setting", p)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/settings?done=setting_saved", http.StatusSeeOther)
}

func (a *Admin) settingExists(r *http.Request, key string) bool {
	_, err := a.Settings.Get(r.Context(), current(r.Context()).P, key)
	return err == nil
}

// jsonProblem says why a value is not JSON, with the line and column.
func jsonProblem(raw []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, c := range raw[:min(int(se.Offset), len(raw))] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("is not valid JSON: %s (line %d, column %d). Text needs double quotes, like \"hello\"", se.Error(), line, col)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return "is required: any JSON value, such as \"text\", 42, true or {\"a\": 1}"
	}
	return "is not valid JSON: " + err.Error()
}

func (a *Admin) settingDelete(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		a.status(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	version, _ := formVersion(r)
	if err := a.Settings.Delete(r.Context(), current(r.Context()).P, r.PathValue("key"), version); err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/settings?done=setting_deleted", http.StatusSeeOther)
}
