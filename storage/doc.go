// Package storage will hold the narrow interfaces hosts use for stored
// rows (write a table's rows, read a key's rows in a time range, the row a
// LAST JOIN picks) and pre-aggregated tiles, with an in-memory
// implementation; storage/bigtable will implement them on Bigtable. Request
// mode reads rows through eval.Source, which these implementations satisfy.
//
// Not built yet: see the storage issue. Until then, eval.MemSource serves
// request mode in process.
package storage
