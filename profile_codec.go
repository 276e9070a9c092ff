package gamify

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// profileDecoder decodes stored profiles on the writer's cache-miss path
// (loadUser), where json.Unmarshal cost about as much as the rest of the
// event. It reads the form json.Marshal writes — known keys, once each, no
// whitespace, strings without escapes — and hands anything else to
// json.Unmarshal, so the result is always the one json.Unmarshal gives.
//
// Users mostly share their preferences and attribute sets, so the decoded
// values are kept by their encoding and shared between records: both are
// only ever replaced, never written in place (profile.merge copies the
// attribute map before a change, SetPreferences stores a clone).
type profileDecoder struct {
	prefsRaw []byte // the encoding of prefs
	prefs    Preferences
	attrs    map[string]map[string]string // attribute maps by their encoding
}

// Attribute sets kept by profileDecoder: a store's sets beyond this (user
// attributes with many values) are decoded for each record.
const maxSharedAttrs = 256

// decode decodes pv into p, a zero profile.
func (d *profileDecoder) decode(pv []byte, p *profile) error {
	if d.fast(pv, p) {
		return nil
	}
	*p = profile{}
	return json.Unmarshal(pv, p)
}

// Profile keys, one bit each: a key seen twice leaves the fast path.
const (
	pkID = 1 << iota
	pkUID
	pkName
	pkEmail
	pkTZ
	pkAttributes
	pkDeviceTokens
	pkSubscribe
	pkCreated
	pkUpdated
	pkActive
	pkPreferences
	pkControl
	pkRemind
	pkSetAt
)

var profileKeys = map[string]int{
	"id": pkID, "uid": pkUID, "name": pkName, "email": pkEmail, "tz": pkTZ, "attributes": pkAttributes,
	"deviceTokens": pkDeviceTokens, "subscribeToEmails": pkSubscribe, "created": pkCreated, "updated": pkUpdated,
	"active": pkActive, "preferences": pkPreferences, "control": pkControl, "remind": pkRemind,
	"setAt": pkSetAt,
}

// fast decodes pv in the form json.Marshal writes; false means it could
// not (p is then partly written).
func (d *profileDecoder) fast(pv []byte, p *profile) bool {
	s := jscan{b: pv}
	seen := 0
	ok := s.object(func(key []byte) bool {
		k := profileKeys[string(key)]
		if k == 0 || seen&k != 0 {
			return false
		}
		seen |= k
		switch k {
		case pkID:
			return s.str(&p.ID)
		case pkUID:
			return s.uint(&p.UID)
		case pkName:
			return s.str(&p.Name)
		case pkEmail:
			return s.str(&p.Email)
		case pkTZ:
			return s.str(&p.TZ)
		case pkAttributes:
			return d.attributes(&s, &p.Attributes)
		case pkDeviceTokens:
			return s.strs(&p.DeviceTokens)
		case pkSubscribe:
			return s.bool(&p.SubscribeToEmails)
		case pkCreated:
			return s.time(&p.Created)
		case pkUpdated:
			return s.time(&p.Updated)
		case pkActive:
			return s.bool(&p.Active)
		case pkPreferences:
			return d.preferences(&s, &p.Preferences)
		case pkControl:
			return s.bool(&p.Control)
		case pkRemind:
			return s.remind(&p.Remind)
		case pkSetAt:
			return s.times(&p.SetAt)
		}
		return false
	})
	return ok && s.i == len(s.b)
}

func (d *profileDecoder) preferences(s *jscan, out *Preferences) bool {
	raw, ok := s.skipObject()
	if !ok {
		return false
	}
	if d.prefsRaw == nil || !bytes.Equal(raw, d.prefsRaw) {
		var prefs Preferences
		if json.Unmarshal(raw, &prefs) != nil {
			return false
		}
		d.prefsRaw, d.prefs = bytes.Clone(raw), prefs
	}
	*out = d.prefs
	return true
}

func (d *profileDecoder) attributes(s *jscan, out *map[string]string) bool {
	start := s.i
	if raw := s.peekObject(); raw != nil {
		if m, ok := d.attrs[string(raw)]; ok {
			s.i += len(raw)
			*out = m
			return true
		}
	}
	m := map[string]string{}
	if !s.object(func(key []byte) bool {
		if !jsonPlain(key) {
			return false
		}
		k := string(key)
		if _, dup := m[k]; dup {
			return false
		}
		var v string
		if !s.str(&v) {
			return false
		}
		m[k] = v
		return true
	}) {
		return false
	}
	if len(m) == 0 {
		return false // json.Marshal omits an empty map
	}
	if d.attrs == nil || len(d.attrs) >= maxSharedAttrs {
		d.attrs = make(map[string]map[string]string)
	}
	d.attrs[string(s.b[start:s.i])] = m
	*out = m
	return true
}

// jscan reads JSON in json.Marshal's form; each method reports false on
// anything else.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) lit(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads {"key":value,...}, calling member with the scanner at each
// value (keys are returned unescaped; one with an escape fails).
func (s *jscan) object(member func(key []byte) bool) bool {
	if !s.lit('{') {
		return false
	}
	if s.lit('}') {
		return true
	}
	for {
		key, ok := s.plain()
		if !ok || !s.lit(':') || !member(key) {
			return false
		}
		if s.lit('}') {
			return true
		}
		if !s.lit(',') {
			return false
		}
	}
}

// peekObject returns the object at the scanner without moving it, nil if
// there is none or it holds a string with an escape.
func (s *jscan) peekObject() []byte {
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\', '{', '[':
			return nil
		case '}':
			return s.b[s.i : j+1]
		}
	}
	return nil
}

// plain reads a string without escapes and returns its bytes.
func (s *jscan) plain() ([]byte, bool) {
	if !s.lit('"') {
		return nil, false
	}
	j := bytes.IndexByte(s.b[s.i:], '"')
	if j < 0 {
		return nil, false
	}
	v := s.b[s.i : s.i+j]
	if !jsonPlain(v) {
		return nil, false
	}
	s.i += j + 1
	return v, true
}

// jsonPlain reports whether v is the body of a JSON string that decodes to
// itself: valid UTF-8 without escapes or control characters.
func jsonPlain(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c == '\\' {
			return false
		}
	}
	return utf8.Valid(v)
}

func (s *jscan) str(out *string) bool {
	v, ok := s.plain()
	if ok {
		*out = string(v)
	}
	return ok
}

func (s *jscan) strs(out *[]string) bool {
	if !s.lit('[') || s.lit(']') {
		return false // an empty list: json.Unmarshal makes it non-nil
	}
	var l []string
	for {
		var v string
		if !s.str(&v) {
			return false
		}
		l = append(l, v)
		if s.lit(']') {
			*out = l
			return true
		}
		if !s.lit(',') {
			return false
		}
	}
}

func (s *jscan) bool(out *bool) bool {
	switch {
	case bytes.HasPrefix(s.b[s.i:], []byte("true")):
		*out, s.i = true, s.i+4
	case bytes.HasPrefix(s.b[s.i:], []byte("false")):
		*out, s.i = false, s.i+5
	default:
		return false
	}
	return true
}

// digits returns an integer literal: an optional minus (if signed), then
// digits without a leading zero.
func (s *jscan) digits(signed bool) ([]byte, bool) {
	j := s.i
	if signed && j < len(s.b) && s.b[j] == '-' {
		j++
	}
	d := j
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		j++
	}
	if j == d || s.b[d] == '0' && j > d+1 {
		return nil, false
	}
	if j < len(s.b) && (s.b[j] == '.' || s.b[j] == 'e' || s.b[j] == 'E') {
		return nil, false
	}
	v := s.b[s.i:j]
	s.i = j
	return v, true
}

func (s *jscan) uint(out *uint64) bool {
	v, ok := s.digits(false)
	if !ok {
		return false
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	*out = n
	return err == nil
}

func (s *jscan) int(out *int64, bits int) bool {
	v, ok := s.digits(true)
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(string(v), 10, bits)
	*out = n
	return err == nil
}

// times reads a non-empty {"key":int,...} of plain keys.
func (s *jscan) times(out *map[string]int64) bool {
	m := map[string]int64{}
	if !s.object(func(key []byte) bool {
		k := string(key)
		if _, dup := m[k]; dup || !jsonPlain(key) {
			return false
		}
		var v int64
		if !s.int(&v, 64) {
			return false
		}
		m[k] = v
		return true
	}) || len(m) == 0 {
		return false // json.Marshal omits an empty map
	}
	*out = m
	return true
}

func (s *jscan) time(out *time.Time) bool {
	start := s.i
	if _, ok := s.plain(); !ok {
		return false
	}
	return out.UnmarshalJSON(s.b[start:s.i]) == nil
}

func (s *jscan) remind(out *remindRec) bool {
	seen := 0
	return s.object(func(key []byte) bool {
		var bit, bits int
		var n int64
		switch string(key) {
		case "streakFor":
			bit, bits = 1, 64
		case "idleFrom":
			bit, bits = 2, 64
		case "idleSent":
			bit, bits = 4, strconv.IntSize
		case "recapWeek":
			bit, bits = 8, 32
		case "streakDay":
			bit, bits = 16, 32
		default:
			return false
		}
		if seen&bit != 0 || !s.int(&n, bits) {
			return false
		}
		seen |= bit
		switch bit {
		case 1:
			out.StreakFor = n
		case 2:
			out.IdleFrom = n
		case 4:
			out.IdleSent = int(n)
		case 8:
			out.RecapWeek = int32(n)
		case 16:
			out.StreakDay = int32(n)
		}
		return true
	})
}

// skipObject reads an object and returns it; its strings may hold escapes
// (whoever decodes it checks it).
func (s *jscan) skipObject() ([]byte, bool) {
	start, depth := s.i, 0
	if !s.lit('{') {
		return nil, false
	}
	for depth++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '"':
			for s.i++; s.i < len(s.b) && s.b[s.i] != '"'; s.i++ {
				if s.b[s.i] == '\\' {
					s.i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				s.i++
				return s.b[start:s.i], true
			}
		}
	}
	return nil, false
}
