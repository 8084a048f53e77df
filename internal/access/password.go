package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes (OWASP's recommended minimum: 19 MiB,
// two passes, one lane). Verification reads the parameters from the stored
// hash, so raising them later re-hashes nobody and locks nobody out.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// MinPasswordLen is the shortest password accepted. Length beats
// composition rules; nothing else is demanded.
const MinPasswordLen = 12

var b64 = base64.RawStdEncoding

// HashPassword returns a PHC-style encoded argon2id hash:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches an encoded hash, comparing
// in constant time. A malformed hash never matches.
func VerifyPassword(encoded, password string) bool {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

type argonParams struct {
	memory, time uint32
	threads      uint8
}

// decodeHash parses the PHC string, bounding every parameter so that a
// tampered row cannot make a login allocate gigabytes or spin for minutes.
func decodeHash(encoded string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w password hash: not an argon2id PHC string", ErrInvalid)
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w password hash: unsupported version %q", ErrInvalid, parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, nil, nil, fmt.Errorf("%w password hash: parameters %q", ErrInvalid, parts[3])
	}
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 16 || p.threads < 1 || p.threads > 16 {
		return p, nil, nil, fmt.Errorf("%w password hash: parameters %q out of range", ErrInvalid, parts[3])
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w password hash: salt", ErrInvalid)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w password hash: key", ErrInvalid)
	}
	return p, salt, key, nil
}

// CheckPasswordStrength rejects passwords too short to resist guessing.
func CheckPasswordStrength(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLen {
		return fmt.Errorf("%w password: %d characters, at least %d needed", ErrInvalid, n, MinPasswordLen)
	}
	return nil
}

// GeneratePassword returns a random one-time password (first administrator,
// new accounts): 26 base32 characters, 128 bits, easy to read off a terminal.
func GeneratePassword() string { return rand.Text() }
