// Package job runs allot's background work on River, over whichever
// warehouse backend is in use: riversqlite on SQLite, riverpgxv5 on
// PostgreSQL. Packages register their workers, queues and periodic jobs in a
// Registry; the server builds one Client from it.
//
// Jobs can be inserted in the same transaction as warehouse writes (InsertTx),
// so "record the change and schedule its fulfilment" either both happen or
// neither does.
package job
