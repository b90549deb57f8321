// Package dataflow will build Apache Beam pipelines from a compiled plan:
// offline backfill (training data) and batch and streaming materialization
// of rows into storage, each hosting the one evaluator (package
// featurelang/eval) in its DoFns.
//
// Not built yet: see the dataflow issue.
package dataflow
