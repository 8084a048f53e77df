package access_test

import (
	"testing"

	"github.com/allot-dev/allot/internal/access"
)

// A stored hash is input like any other (a restored backup, a hand-edited
// row): verifying against it must never panic nor allocate without bound,
// and only a well-formed hash of the right password may match.
func FuzzVerifyPassword(f *testing.F) {
	good, err := access.HashPassword("correct horse battery")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "correct horse battery")
	f.Add("$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "x")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$$", "")
	f.Fuzz(func(t *testing.T, encoded, password string) {
		if access.VerifyPassword(encoded, password) && encoded != good {
			// Matching is possible for other well-formed hashes, but then
			// the same password must verify again (determinism).
			if !access.VerifyPassword(encoded, password) {
				t.Fatalf("verification is not deterministic for %q", encoded)
			}
		}
	})
}
