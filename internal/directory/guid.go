package directory

// PackGUID packs a canonical lowercase GUID ("8-4-4-4-12" hex digits), the
// form of every Entra object id, into 16 bytes. The bytes sort as the text
// does. Anything else reports false.
func PackGUID(s string) ([16]byte, bool) {
	var g [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if s[i] == '-' {
			i--
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return g, false
		}
		g[j] = hi<<4 | lo
		j++
	}
	return g, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// UnpackGUID is the text of a GUID PackGUID packed.
func UnpackGUID(g []byte) string {
	const digits = "0123456789abcdef"
	var s [36]byte
	j := 0
	for i, c := range g {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = digits[c>>4], digits[c&0x0f]
		j += 2
	}
	return string(s[:])
}
