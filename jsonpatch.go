package quire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// PatchOp is one operation of an RFC 6902 JSON Patch. Diffs emit a "test"
// of the old value before every "replace" and "remove", so that the patch
// shows what was there and refuses to apply to anything else.
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// JSONPatch returns the patch that turns JSON document a into b: objects
// member by member, arrays of equal length element by element, anything
// else replaced whole. Equal documents give an empty patch.
func JSONPatch(a, b json.RawMessage) ([]PatchOp, error) {
	va, err := decodeNumbers(a)
	if err != nil {
		return nil, err
	}
	vb, err := decodeNumbers(b)
	if err != nil {
		return nil, err
	}
	var ops []PatchOp
	patch(&ops, "", va, vb)
	return ops, nil
}

// decodeNumbers keeps numbers as written (json.Number), so that 2 and 2.0
// stay what they were and large integers do not pass through float64.
func decodeNumbers(raw json.RawMessage) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

func patch(ops *[]PatchOp, path string, a, b any) {
	if reflect.DeepEqual(a, b) {
		return
	}
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			keys := make([]string, 0, len(av)+len(bv))
			for k := range av {
				keys = append(keys, k)
			}
			for k := range bv {
				if _, ok := av[k]; !ok {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				p := path + "/" + pointerEscaper.Replace(k)
				old, inA := av[k]
				val, inB := bv[k]
				switch {
				case !inB:
					*ops = append(*ops, PatchOp{"test", p, encode(old)}, PatchOp{Op: "remove", Path: p})
				case !inA:
					*ops = append(*ops, PatchOp{"add", p, encode(val)})
				default:
					patch(ops, p, old, val)
				}
			}
			return
		}
	case []any:
		if bv, ok := b.([]any); ok && len(av) == len(bv) {
			for i := range av {
				patch(ops, path+"/"+strconv.Itoa(i), av[i], bv[i])
			}
			return
		}
	}
	*ops = append(*ops, PatchOp{"test", path, encode(a)}, PatchOp{"replace", path, encode(b)})
}

// pointerEscaper escapes a member name for a JSON Pointer (RFC 6901).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func encode(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // decoded JSON always encodes
	return bytes.TrimRight(buf.Bytes(), "\n")
}
