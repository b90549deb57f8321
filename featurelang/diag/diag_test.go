package diag

import "testing"

func TestErrorRendering(t *testing.T) {
	t.Parallel()
	src := NewSource("f.sql", "SELECT a\n\tFROM t WHERE ün = 1\nLAST")
	tests := []struct {
		name string
		pos  Pos
		want string
	}{
		{"first line", 7, "f.sql:1:8: boom\n | SELECT a\n |        ^"},
		{"tab kept under the caret", 10, "f.sql:2:2: boom\n | \tFROM t WHERE ün = 1\n | \t^"},
		{"columns count runes", 24, "f.sql:2:16: boom\n | \tFROM t WHERE ün = 1\n | \t              ^"},
		{"end of file", Pos(len(src.Text)), "f.sql:3:5: boom\n | LAST\n |     ^"},
		{"no position", NoPos, "f.sql: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &Error{Source: src, Pos: tt.pos, Msg: "boom"}
			if got := e.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestListSortedAndCapped(t *testing.T) {
	t.Parallel()
	src := NewSource("f.sql", "abc")
	var l List
	if l.Err() != nil {
		t.Fatal("an empty list is not an error")
	}
	for i := range MaxErrors + 3 {
		l.Add(src, Pos(2-i%3), "e%d", i)
	}
	if l.Len() != MaxErrors+3 || len(l.Errs) != MaxErrors {
		t.Fatalf("len %d, kept %d", l.Len(), len(l.Errs))
	}
	l.Err()
	for i := 1; i < len(l.Errs); i++ {
		if l.Errs[i-1].Pos > l.Errs[i].Pos {
			t.Fatalf("not sorted by position at %d", i)
		}
	}
}
