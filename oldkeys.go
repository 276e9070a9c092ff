package gamify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// renamedKeys is a definition whose fields were renamed, so whose JSON keys
// changed: oldKeys maps each renamed key, by its path from the top object
// (keys joined by ".", "[]" for every element of an array), to the name
// it had. A patch command's digest is taken over the JSON with the old
// names (see digest), so that a patch logged before the rename still
// applies at replay; decoding reads the old names through the type's
// UnmarshalJSON.
type renamedKeys interface {
	oldKeys() map[string]string
}

// withOldKeys rewrites b, JSON as json.Marshal writes a struct, giving the
// keys at the paths of old their old names. Only object keys at those
// paths change: values, and keys of maps below other paths, are left as
// they are, byte for byte.
func withOldKeys(b []byte, old map[string]string) ([]byte, error) {
	type frame struct {
		obj     bool   // an object (else an array)
		wantKey bool   // an object's next token is a key
		path    string // the path of the object or array
		valPath string // in an object, the path of the current key's value
	}
	join := func(p, k string) string {
		if p == "" {
			return k
		}
		return p + "." + k
	}
	var out []byte
	last := 0 // b[:last] is in out
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var stack []frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.obj && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].wantKey = true
				}
				continue
			}
			key, _ := tok.(string)
			top.wantKey, top.valPath = false, join(top.path, key)
			if name, ok := old[top.valPath]; ok {
				end := int(dec.InputOffset())
				start := end - len(key) - 2
				if start < last || string(b[start:end]) != `"`+key+`"` {
					return nil, fmt.Errorf("gamify: key %q is not written plainly", key)
				}
				out = append(append(append(out, b[last:start]...), '"'), name...)
				out = append(out, '"')
				last = end
			}
			continue
		}
		path := ""
		if top != nil {
			if top.obj {
				path = top.valPath
			} else {
				path = join(top.path, "[]")
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, wantKey: true, path: path})
			continue
		case json.Delim('['):
			stack = append(stack, frame{path: path})
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].wantKey = true // the value of the current key is done
		}
	}
	return append(out, b[last:]...), nil
}
