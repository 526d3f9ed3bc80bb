// Package store keeps the QC reports of checked segmentations.
//
// [Store] is the interface the gateway writes reports to and serves them
// from. [SQLite] implements it on an embedded SQLite database
// (modernc.org/sqlite, no cgo), which suits one gateway; a PostgreSQL
// implementation for several replicas can fill the same interface. Every
// implementation keeps each report whole, as the JSON of [qc.Report], next to
// the columns that lists filter and sort on, and never changes a report
// once it is written: a SEG checked again gets a new row, and
// [Store.Latest] returns the newest.
package store
