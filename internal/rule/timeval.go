package rule

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dateLayouts are the DateTimeOffset spellings accepted for employeeHireDate.
// A date or time without a zone is UTC, which is what Entra stores.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

func parseDate(s string) (time.Time, bool) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// duration is an ISO 8601 duration as used in "system.now -plus p1d".
// Calendar parts stay separate from clock parts because a month is not a
// fixed number of hours.
type duration struct {
	years, months, weeks, days, hours, minutes, seconds int
}

// Components are capped at six digits: no rule needs a million years, and
// the cap keeps time arithmetic far from overflow.
var durationRE = regexp.MustCompile(`^[Pp](?:(\d{1,6})[Yy])?(?:(\d{1,6})[Mm])?(?:(\d{1,6})[Ww])?(?:(\d{1,6})[Dd])?(?:[Tt](?:(\d{1,6})[Hh])?(?:(\d{1,6})[Mm])?(?:(\d{1,6})[Ss])?)?$`)

func parseDuration(s string) (duration, bool) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil || s[1:] == "" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return duration{}, false
	}
	n := make([]int, 7)
	for i := range n {
		if m[i+1] != "" {
			n[i], _ = strconv.Atoi(m[i+1])
		}
	}
	return duration{n[0], n[1], n[2], n[3], n[4], n[5], n[6]}, true
}

func (d duration) zero() bool { return d == duration{} }

// String is the canonical upper-case form, such as "P1D" or "PT12H".
func (d duration) String() string {
	var b strings.Builder
	b.WriteByte('P')
	for _, part := range []struct {
		n    int
		unit byte
	}{{d.years, 'Y'}, {d.months, 'M'}, {d.weeks, 'W'}, {d.days, 'D'}} {
		if part.n != 0 {
			b.WriteString(strconv.Itoa(part.n))
			b.WriteByte(part.unit)
		}
	}
	if d.hours != 0 || d.minutes != 0 || d.seconds != 0 {
		b.WriteByte('T')
		for _, part := range []struct {
			n    int
			unit byte
		}{{d.hours, 'H'}, {d.minutes, 'M'}, {d.seconds, 'S'}} {
			if part.n != 0 {
				b.WriteString(strconv.Itoa(part.n))
				b.WriteByte(part.unit)
			}
		}
	}
	if b.Len() == 1 {
		return "P0D"
	}
	return b.String()
}

// addTo applies the duration (or its negation) to t.
func (d duration) addTo(t time.Time, sign int) time.Time {
	t = t.AddDate(sign*d.years, sign*d.months, sign*(7*d.weeks+d.days))
	clock := time.Duration(d.hours)*time.Hour + time.Duration(d.minutes)*time.Minute + time.Duration(d.seconds)*time.Second
	return t.Add(time.Duration(sign) * clock)
}

// nowOffset turns a ValueNow's Offset back into a sign and duration.
func nowOffset(offset string) (duration, int) {
	sign := 1
	if strings.HasPrefix(offset, "-") {
		sign, offset = -1, offset[1:]
	}
	d, _ := parseDuration(offset)
	return d, sign
}
