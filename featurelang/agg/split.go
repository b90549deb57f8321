package agg

import (
	"regexp"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// window_split(s, delim), window_split_by_key(s, delim, kv_delim) and
// window_split_by_value(s, delim, kv_delim) split the frame's non-NULL
// strings and return the pieces as an array<string>
// (hybridse/src/udf/default_defs/feature_zero_def.cc):
//
//   - window_split: the pieces of s between delim ("a,,b," gives a, "", b,
//     "");
//   - window_split_by_key: s is split by delim into segments "k<kv>v"; the
//     key of each segment that has kv_delim;
//   - window_split_by_value: the value of each such segment (up to a second
//     kv_delim).
//
// Rows are visited newest first, as OpenMLDB iterates a window. A piece is
// skipped when it would take the pieces' total length beyond 4096 bytes. A
// one-byte delimiter splits literally; a longer one is a regular expression
// (OpenMLDB uses boost::split_regex; here Go's RE2 syntax). An empty
// delimiter gives no pieces. Delimiters must be string constants.

func init() {
	register(resolveSplit, "window_split", "window_split_by_key", "window_split_by_value")
}

// maxSplitOutput is OpenMLDB's limit on the total length of the pieces.
const maxSplitOutput = 4096

// splitter splits one string into pieces, calling add for each.
type splitter func(s string, add func(string))

func resolveSplit(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	arity := 3
	if name == "window_split" {
		arity = 2
	}
	if len(args) != arity {
		want := "(string, delimiter, kv_delimiter)"
		if arity == 2 {
			want = "(string, delimiter)"
		}
		return nil, argError(name, "takes %s, got %d argument%s", want, len(args), plural(len(args)))
	}
	if args[0] != types.String {
		return nil, argError(name, "cannot split %s; expected a string", args[0])
	}
	delims := make([]string, arity-1)
	for i := range delims {
		if args[i+1] != types.String || consts[i+1] == nil || consts[i+1].Null {
			return nil, argError(name, "the delimiters must be non-NULL string constants")
		}
		delims[i] = consts[i+1].S
	}
	split, err := newSplitter(name, delims)
	if err != nil {
		return nil, argError(name, "%v", err)
	}
	return newFunc(name, args, types.ArrayOf(types.String), consts, func(c []*types.Column) Acc {
		col := c[0]
		return &frameAcc{
			keep: func(row int) bool { return !col.IsNull(row) },
			eval: func(v rowView) types.Value {
				pieces := make([]types.Value, 0, v.len())
				total := 0
				add := func(p string) {
					if total+len(p) <= maxSplitOutput {
						pieces = append(pieces, types.StringValue(p))
						total += len(p)
					}
				}
				for k := v.len() - 1; k >= 0; k-- {
					split(col.S[v.at(k)], add)
				}
				return types.Value{Type: types.ArrayOf(types.String), X: pieces}
			},
		}
	}), nil
}

// newSplitter returns the splitter of the named function.
func newSplitter(name string, delims []string) (splitter, error) {
	for _, d := range delims {
		if d == "" {
			return func(string, func(string)) {}, nil
		}
	}
	literal := true
	for _, d := range delims {
		literal = literal && len(d) == 1
	}
	var res []*regexp.Regexp
	for _, d := range delims {
		if literal {
			break
		}
		re, err := regexp.Compile(d)
		if err != nil {
			return nil, err
		}
		res = append(res, re)
	}
	switch {
	case name == "window_split" && literal:
		return func(s string, add func(string)) {
			for _, p := range strings.Split(s, delims[0]) {
				add(p)
			}
		}, nil
	case name == "window_split":
		return func(s string, add func(string)) {
			for _, p := range res[0].Split(s, -1) {
				add(p)
			}
		}, nil
	case literal:
		return literalKVSplitter(delims[0][0], delims[1][0], name == "window_split_by_key"), nil
	}
	part := 1
	if name == "window_split_by_key" {
		part = 0
	}
	return func(s string, add func(string)) {
		for _, seg := range res[0].Split(s, -1) {
			if kv := res[1].Split(seg, -1); len(kv) >= 2 {
				add(kv[part])
			}
		}
	}, nil
}

// literalKVSplitter scans s once, as OpenMLDB does with one-byte
// delimiters: segments end at d; a segment's key runs up to its first kv;
// its value runs from there to the next kv or the segment's end.
func literalKVSplitter(d, kv byte, key bool) splitter {
	if key {
		return func(s string, add func(string)) {
			begin, found := 0, false
			for i := 0; i < len(s); i++ {
				switch {
				case s[i] == d:
					begin, found = i+1, false
				case s[i] == kv && !found:
					add(s[begin:i])
					found = true
				}
			}
		}
	}
	return func(s string, add func(string)) {
		begin, parts := 0, 0
		for i := 0; i < len(s); i++ {
			switch {
			case s[i] == d:
				if parts == 1 {
					add(s[begin:i])
				}
				parts = 0
			case s[i] == kv:
				parts++
				if parts == 1 {
					begin = i + 1
				} else if parts == 2 {
					add(s[begin:i])
				}
			}
		}
		if parts == 1 {
			add(s[begin:])
		}
	}
}
