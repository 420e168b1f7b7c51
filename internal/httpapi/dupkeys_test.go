package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/quirecms/quire"
)

// The byte scanner finds exactly the duplicates the token walk it replaced
// found, with the same message and field, and leaves every malformed body
// to the decoder.
func TestDuplicateKeysAsTokenWalk(t *testing.T) {
	for _, body := range dupCorpus {
		checkSameAsTokens(t, []byte(body))
	}
}

func FuzzDuplicateKeys(f *testing.F) {
	for _, body := range dupCorpus {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkSameAsTokens(t, body) })
}

func checkSameAsTokens(t *testing.T, body []byte) {
	t.Helper()
	got, want := checkDuplicateKeys(body), tokenDuplicateKeys(body)
	if !json.Valid(body) {
		want = nil // malformed: left to the decoder, which reports it
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%q: scan %v, token walk %v", body, got, want)
	}
	var g, w *quire.Error
	if asError(got, &g) && asError(want, &w) && fmt.Sprint(g.Fields) != fmt.Sprint(w.Fields) {
		t.Fatalf("%q: fields %v, token walk %v", body, g.Fields, w.Fields)
	}
}

var dupCorpus = []string{
	`{}`, `[]`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"role":"viewer","Role":"admin"}`,
	`{"a":{"b":1,"b":2}}`, `{"a":{"b":1,"B":2}}`, `{"a":[{"x":1},{"x":2}]}`, `{"a":[{"x":1,"x":2}]}`,
	`{"a\u0062":1,"ab":2}`, `{"\"":1,"\"":2}`, `{"a":"}\"{","a":3}`, `{"k":1 , "k" : 2}`,
	` { "a" : [ 1 , 2 , { "c" : null , "c" : true } ] } `, `{"a":1,}`, `{"a"`, `{"a":`, `{"a":1`, `[1,2`,
	`{"a":1}{"a":1}`, `{"a":1,"b":{"a":1}}`, `{"K":1,"k":2}`, `{"ſ":1,"s":2}`, `{"blocks":[{"type":"p","content":{"text":"a","text":"b"}}]}`,
	`{"a":[[[[{"z":1,"z":1}]]]]}`, `"str"`, `12`, `null`, `{"a":tru,"a":1}`, `{"x":1e5,"x":-0.5}`,
	`{1:2}`, `{"a" 1}`, `{"a":1 "b":2}`, `[1 2]`, `{"a":[,]}`,
	strings.Repeat("[", 20) + strings.Repeat("]", 20),
}

// tokenDuplicateKeys is the token walk checkDuplicateKeys replaced, kept
// as the reference its answers are compared with.
func tokenDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		keys     map[string]bool
		isObject bool
		wantKey  bool
		fold     bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.isObject && top.wantKey {
			if key, ok := tok.(string); ok {
				k := key
				if top.fold {
					k = foldKey(key)
				}
				if top.keys[k] {
					return &quire.Error{Code: quire.EBADREQUEST, Message: fmt.Sprintf("duplicate key %q", key),
						Fields: []quire.FieldError{{Field: key, Message: "appears more than once"}}}
				}
				top.keys[k] = true
				top.wantKey = false
				continue
			}
		}
		if top != nil && top.isObject && !top.wantKey {
			top.wantKey = true // this token is the value (or starts it)
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, isObject: true, wantKey: true, fold: len(stack) == 0})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}
