package gamifytype

// MaxKeyLen is the longest definition key.
const MaxKeyLen = 64

// ValidateKey checks that key matches [A-Za-z0-9_-]{1,64}; field names the
// input in the error.
func ValidateKey(field, key string) error {
	if len(key) == 0 {
		return Invalid(field, key, "must not be empty")
	}
	if len(key) > MaxKeyLen {
		return Invalid(field, key, "must be at most 64 characters")
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return Invalid(field, key, "must match [A-Za-z0-9_-]{1,64}")
		}
	}
	return nil
}
