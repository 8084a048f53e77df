package engine

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParsePolicy reads a policy document (YAML, of which JSON is a subset),
// rejects unknown fields and validates it. Every error names the file, the
// line and the field path, e.g.
//
//	pools.yaml:12: pools[1].assignments.rules[0]: line 1, column 17: expected a value
//
// so `allot apply -f` can point at the exact spot. Nothing is returned on
// error: a half-read policy must never be applied.
func ParsePolicy(file string, data []byte) (*Policy, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ValidationError{Errs: []*FieldError{{File: file, Line: yamlErrLine(err.Error()), Msg: trimYAMLErr(err.Error()), Err: err}}}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &ValidationError{Errs: []*FieldError{{File: file, Line: 1, Msg: "the document is empty; want a mapping with pools"}}}
	}
	paths := indexPaths(root.Content[0])
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			line := yamlErrLine(err.Error())
			return nil, &ValidationError{Errs: []*FieldError{{File: file, Line: line, Path: paths.atLine(line), Msg: trimYAMLErr(err.Error()), Err: err}}}
		}
		ve := &ValidationError{}
		for _, msg := range te.Errors {
			line := yamlErrLine(msg)
			ve.Errs = append(ve.Errs, &FieldError{File: file, Line: line, Path: paths.atLine(line), Msg: trimYAMLErr(msg)})
		}
		return nil, ve
	}
	if err := p.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			for _, fe := range ve.Errs {
				fe.File = file
				fe.Line = paths.lineOf(fe.Path)
			}
		}
		return nil, err
	}
	return &p, nil
}

var lineRE = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(msg string) int {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

var linePrefixRE = regexp.MustCompile(`^(yaml: )?(unmarshal errors:\s*)?(line \d+: )?`)

func trimYAMLErr(msg string) string {
	msg = strings.TrimSpace(linePrefixRE.ReplaceAllString(strings.TrimSpace(msg), ""))
	return strings.ReplaceAll(msg, "engine.", "")
}

// pathIndex maps field paths (pools[1].target.group) to the line they are
// on, and back.
type pathIndex struct {
	lines map[string]int
	order []string // paths in document order
}

func indexPaths(n *yaml.Node) *pathIndex {
	px := &pathIndex{lines: map[string]int{}}
	// A field's line is its key's line; a list item's, the item's own.
	var walk func(n *yaml.Node, path string, line int)
	walk = func(n *yaml.Node, path string, line int) {
		px.lines[path] = line
		px.order = append(px.order, path)
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				child := k.Value
				if path != "" {
					child = path + "." + k.Value
				}
				walk(v, child, k.Line)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i), c.Line)
			}
		}
	}
	walk(n, "", n.Line)
	return px
}

// lineOf finds the line of a path, or of its nearest ancestor present in
// the document (a missing required field points at its parent).
func (px *pathIndex) lineOf(path string) int {
	for p := path; ; {
		if l, ok := px.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return px.lines[""]
		}
		p = p[:i]
	}
}

// atLine returns the outermost path that starts on line: for
// "bundel: [{sku: E3}]" that is the field the line is about, not the
// values nested in it.
func (px *pathIndex) atLine(line int) string {
	best, found := "", false
	for _, p := range px.order {
		if px.lines[p] == line && (!found || len(p) < len(best)) {
			best, found = p, true
		}
	}
	return best
}

// MarshalYAML writes the price as a decimal string.
func (p Price) MarshalYAML() (any, error) { return p.String(), nil }

// UnmarshalYAML reads 57, 57.5 or "57.00".
func (p *Price) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: price: want an amount like 57.00", n.Line)
	}
	v, err := ParsePrice(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*p = v
	return nil
}
