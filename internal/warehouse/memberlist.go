package warehouse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/allot-dev/allot/internal/directory"
)

// Memberships are stored as lists, not as one row each: group_members holds
// one row per group with its direct members, member_groups one row per
// member with the groups it belongs to, each list sorted by id and packed
// into a blob. A tenant has about ten memberships per user, so rows and two
// GUID-keyed indexes made memberships most of a sync's writes: 900,000 of
// them took 10.6 s to insert into SQLite as rows, against 110,000 lists
// written in well under a second. Readers want whole lists anyway (a group's
// members, a user's groups, everything for the engine).
//
// A list is a version byte followed by entries in id order. An entry is a
// tag byte, then the id: 16 bytes when the tag has tagGUID (a canonical
// lowercase GUID, which is what Entra object ids are), else a uvarint length
// and the bytes. The tag's low bits are the member type (typeNone in lists
// of groups); typeOther is followed by the type's name, length-prefixed.
const (
	listVersion = 1

	tagGUID     = 0x80
	tagTypeMask = 0x0f
	typeNone    = 0
	typeOther   = tagTypeMask
)

// memberTypeCodes gives the well-known member types their tag codes; the
// index is the code. Never reorder: the codes are stored.
var memberTypeCodes = [...]directory.MemberType{
	1: directory.MemberUser,
	2: directory.MemberGroup,
	3: directory.MemberDevice,
	4: directory.MemberServicePrincipal,
	5: directory.MemberOrgContact,
}

// errCorruptList reports a stored list that does not decode; it means the
// database was damaged or written by something other than allot.
var errCorruptList = errors.New("corrupt member list")

// listEntry is one entry of a stored list: a member of a group (with its
// type), or a group a member belongs to (no type).
type listEntry struct {
	id  string
	typ directory.MemberType
}

func newList(n int) []byte {
	return append(make([]byte, 0, 1+17*n), listVersion)
}

func appendListEntry(b []byte, id string, typ directory.MemberType) []byte {
	tag := byte(typeNone)
	if typ != "" {
		tag = typeOther
		for code, t := range memberTypeCodes {
			if code > 0 && t == typ {
				tag = byte(code)
				break
			}
		}
	}
	g, isGUID := directory.PackGUID(id)
	if isGUID {
		tag |= tagGUID
	}
	b = append(b, tag)
	if tag&tagTypeMask == typeOther {
		b = binary.AppendUvarint(b, uint64(len(typ)))
		b = append(b, typ...)
	}
	if isGUID {
		return append(b, g[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(id)))
	return append(b, id...)
}

// decodeList calls fn with each entry of a stored list, in order, until fn
// returns false.
func decodeList(b []byte, fn func(id string, typ directory.MemberType) bool) error {
	if err := checkVersion(b); err != nil {
		return err
	}
	for i := 1; i < len(b); {
		e, typ, next, err := nextEntry(b, i)
		if err != nil {
			return err
		}
		if !fn(e.text(), typ) {
			return nil
		}
		i = next
	}
	return nil
}

func checkVersion(b []byte) error {
	if len(b) == 0 || b[0] != listVersion {
		return fmt.Errorf("%w: unknown version", errCorruptList)
	}
	return nil
}

// rawEntry is an entry of a stored list left encoded. Editing a list copies
// the entries it keeps as they are: decoding every entry of a large group's
// list into a string and packing it again was most of the cost of a delta
// that moved members in or out of the group.
type rawEntry struct {
	b    []byte // the whole encoded entry
	guid []byte // the packed id (16 bytes) when it is a GUID
	id   string // the id when it is not a GUID
}

// text is the entry's id.
func (e rawEntry) text() string {
	if e.guid != nil {
		return directory.UnpackGUID(e.guid)
	}
	return e.id
}

// compare orders entries by id, as lists are sorted; packed GUIDs sort as
// their text does.
func (e rawEntry) compare(o rawEntry) int {
	if e.guid != nil && o.guid != nil {
		return bytes.Compare(e.guid, o.guid)
	}
	return strings.Compare(e.text(), o.text())
}

// nextEntry reads the entry of b that starts at byte i.
func nextEntry(b []byte, i int) (rawEntry, directory.MemberType, int, error) {
	start := i
	tag := b[i]
	i++
	var typ directory.MemberType
	switch code := tag & tagTypeMask; {
	case code == typeOther:
		s, n, err := lengthPrefixed(b, i)
		if err != nil {
			return rawEntry{}, "", 0, err
		}
		typ, i = directory.MemberType(s), n
	case int(code) < len(memberTypeCodes):
		typ = memberTypeCodes[code]
	default:
		return rawEntry{}, "", 0, fmt.Errorf("%w: unknown member type code %d at byte %d", errCorruptList, code, i-1)
	}
	var e rawEntry
	if tag&tagGUID != 0 {
		if len(b)-i < 16 {
			return rawEntry{}, "", 0, fmt.Errorf("%w: truncated id at byte %d", errCorruptList, i)
		}
		e.guid, i = b[i:i+16:i+16], i+16
	} else {
		s, n, err := lengthPrefixed(b, i)
		if err != nil {
			return rawEntry{}, "", 0, err
		}
		e.id, i = s, n
	}
	e.b = b[start:i:i]
	return e, typ, i, nil
}

// rawListEntry encodes one entry on its own.
func rawListEntry(id string, typ directory.MemberType) rawEntry {
	e := rawEntry{b: appendListEntry(nil, id, typ)}
	if e.b[0]&tagGUID != 0 {
		e.guid = e.b[len(e.b)-16:]
	} else {
		e.id = id
	}
	return e
}

func decodeEntries(b []byte) ([]listEntry, error) {
	out := make([]listEntry, 0, len(b)/17)
	err := decodeList(b, func(id string, typ directory.MemberType) bool {
		out = append(out, listEntry{id, typ})
		return true
	})
	return out, err
}

func lengthPrefixed(b []byte, i int) (string, int, error) {
	n, w := binary.Uvarint(b[i:])
	if w <= 0 || n > uint64(len(b)-i-w) {
		return "", 0, fmt.Errorf("%w: bad length at byte %d", errCorruptList, i)
	}
	i += w
	return string(b[i : i+int(n)]), i + int(n), nil
}
