package bigtable

import (
	"context"

	"cloud.google.com/go/bigtable"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Sizes of a Dump: the rows of the blocks it hands over, and the Bigtable
// rows of each ReadRows call (a call per page, so that no call of a large
// table runs into the store's timeout). Variables for the tests.
var (
	dumpBlock = 64 << 10
	dumpPage  = 16 << 10
)

// Dump implements storage.Dumper: every row stored of table name, under
// its first index (which holds every row), with its sequence number and
// its write's stamp, key by key and each key's rows newest first, in
// blocks of up to 65,536 rows, whatever the TTLs. Within a Bigtable row a
// row comes once, as reads take it (its latest copy); a row rewritten
// under another key or day comes once per Bigtable row holding a copy,
// and the greatest stamp is the latest.
func (s *Store) Dump(ctx context.Context, name string, f func(rows *types.Block, seqs, stamps []uint64) error) error {
	t, err := s.table(ctx, name)
	if err != nil {
		return err
	}
	out := types.NewBlock(t.def.Schema, dumpBlock)
	var seqs, stamps []uint64
	sc := scan{t: t, out: out, seqs: &seqs}
	var ferr error
	each := func(_ string, rows []stored) bool {
		reserve(out, len(rows))
		for _, r := range rows {
			if !sc.add(r) {
				return false
			}
			stamps = append(stamps, r.stamp)
		}
		if out.Len >= dumpBlock {
			if ferr = f(out, seqs, stamps); ferr != nil {
				return false
			}
			out.Reset()
			seqs, stamps = seqs[:0], stamps[:0]
		}
		return true
	}
	prefix := string([]byte{0}) // index 0
	from, end := prefix, string(prefixSuccessor([]byte(prefix)))
	for {
		res, err := s.scan(ctx, &sc, t.families[0], bigtable.NewRange(from, end), each, bigtable.LimitRows(int64(dumpPage)))
		if ferr != nil {
			return ferr
		}
		if err != nil {
			return err
		}
		if res.rows < dumpPage {
			break
		}
		from = res.last + "\x00" // the next page starts after the last row read
	}
	if out.Len > 0 {
		return f(out, seqs, stamps)
	}
	return ctx.Err()
}
