package directory

// PackGUID packs a canonical lowercase GUID ("8-4-4-4-12" hex digits), the
// form of every Entra object id, into 16 bytes. The bytes sort as the text
// does. Anything else reports false.
//
// A sync packs every id it meets, several times over (the ids a round saw,
// membership sets, sort keys), so this reads the digits at their fixed
// offsets through a table instead of branching on each character.
func PackGUID(s string) ([16]byte, bool) {
	var g [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, false
	}
	var bad byte
	for j, i := range guidDigits {
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		bad |= hi | lo
		g[j] = hi<<4 | lo
	}
	return g, bad&0xf0 == 0
}

// guidDigits are the offsets of the 16 digit pairs in a GUID's text.
var guidDigits = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexValue maps a lowercase hex digit to its value and every other byte to
// 0xff, whose high bits PackGUID tests once for all 32 digits.
var hexValue = func() (t [256]byte) {
	for c := range t {
		switch {
		case c >= '0' && c <= '9':
			t[c] = byte(c - '0')
		case c >= 'a' && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()

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
