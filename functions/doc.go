// Package functions will hold the HTTP (gorilla/mux) and AWS Lambda
// adapters that evaluate request-time features with the one evaluator over
// stored rows.
//
// Not built yet: see the functions issue.
package functions
