package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// unknownPath finds the JSON path of the first field of raw that v's type
// has no field for (`metrics[0].foo`, `foo` at the top), in document order
// as encoding/json meets it: its unknown-field error names the bare field
// only, wherever it is nested.
func unknownPath(raw []byte, v any) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	path, found, err := walkUnknown(dec, reflect.TypeOf(v), "")
	return path, found && err == nil
}

// walkUnknown reads one value of dec against type t.
func walkUnknown(dec *json.Decoder, t reflect.Type, path string) (string, bool, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		if t.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) {
			return "", false, skipValue(dec)
		}
		t = t.Elem()
	}
	if t == nil || reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "", false, skipValue(dec)
	}
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	d, ok := tok.(json.Delim)
	switch {
	case !ok:
		return "", false, nil // a scalar, or null
	case d == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for i := 0; dec.More(); i++ {
			if p, found, err := walkUnknown(dec, t.Elem(), path+"["+strconv.Itoa(i)+"]"); found || err != nil {
				return p, found, err
			}
		}
	case d == '{' && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map):
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return "", false, err
			}
			name, _ := k.(string)
			at := name
			if path != "" {
				at = path + "." + name
			}
			ft := t
			if t.Kind() == reflect.Map {
				ft = t.Elem()
			} else if ft, ok = fieldType(t, name); !ok {
				return at, true, nil
			}
			if p, found, err := walkUnknown(dec, ft, at); found || err != nil {
				return p, found, err
			}
		}
	default:
		return "", false, skipRest(dec) // another type's error, not this walk's
	}
	_, err = dec.Token() // the closing delimiter
	return "", false, err
}

// fieldType is the type of t's field that encoding/json decodes the JSON
// key name into: its exact name first, else one equal under case folding,
// through embedded structs.
func fieldType(t reflect.Type, name string) (reflect.Type, bool) {
	var fold reflect.Type
	for _, f := range reflect.VisibleFields(t) {
		if et := f.Type; f.Anonymous && f.Tag.Get("json") == "" &&
			(et.Kind() == reflect.Struct || et.Kind() == reflect.Pointer && et.Elem().Kind() == reflect.Struct) {
			continue // its fields are promoted
		}
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		n, _, _ := strings.Cut(tag, ",")
		if n == "" {
			n = f.Name
		}
		if n == name {
			return f.Type, true
		}
		if fold == nil && strings.EqualFold(n, name) {
			fold = f.Type
		}
	}
	return fold, fold != nil
}

// skipValue reads one value whole.
func skipValue(dec *json.Decoder) error {
	var v json.RawMessage
	return dec.Decode(&v)
}

// skipRest reads to the end of the array or object just opened.
func skipRest(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '[' || d == '{' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// typePath is the JSON path, with array indexes, of the value a type error
// in raw is about (`metrics[1].min`): encoding/json names the field's
// path without them (`metrics.min`). It finds the value ending at the
// error's offset and keeps the path only if it is that field's.
func typePath(raw []byte, ute *json.UnmarshalTypeError) string {
	p, ok := pathAt(raw, ute.Offset)
	if !ok || !strings.EqualFold(indexless.ReplaceAllString(p, ""), ute.Field) {
		return ute.Field
	}
	return p
}

var indexless = regexp.MustCompile(`\[\d+\]`)

// pathAt returns the path of the value of raw whose first token ends at
// offset (a scalar, or the opening of an array or object).
func pathAt(raw []byte, offset int64) (string, bool) {
	type frame struct {
		array   bool
		i       int
		key     string
		wantKey bool
	}
	var st []frame
	path := func() string {
		var b strings.Builder
		for _, f := range st {
			if f.array {
				b.WriteString("[" + strconv.Itoa(f.i) + "]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		return b.String()
	}
	next := func() { // the value of the top frame is complete
		if n := len(st); n > 0 {
			if st[n-1].array {
				st[n-1].i++
			} else {
				st[n-1].wantKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		d, delim := tok.(json.Delim)
		if n := len(st); n > 0 && !st[n-1].array && st[n-1].wantKey && !delim {
			st[n-1].key, st[n-1].wantKey = tok.(string), false
			continue
		}
		if delim && (d == '}' || d == ']') {
			st = st[:len(st)-1]
			next()
			continue
		}
		if dec.InputOffset() == offset {
			return path(), true
		}
		if dec.InputOffset() > offset {
			return "", false
		}
		if delim {
			st = append(st, frame{array: d == '[', wantKey: d == '{'})
			continue
		}
		next()
	}
}
