// SPDX-License-Identifier: MIT
// Go database/sql with lib/pq (the extended query protocol) against the
// PostgreSQL of tests/integration/test_postgres.py: a query with a bound
// value, a prepared statement run three times, an insert, and a syntax error.
// Prints "done" at the end.
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/lib/pq"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	db, err := sql.Open("postgres", os.Args[1])
	must(err)
	db.SetMaxOpenConns(1)
	var n int
	must(db.QueryRow("SELECT count(*) FROM orders WHERE note = $1", os.Args[2]).Scan(&n))
	st, err := db.Prepare("SELECT id FROM orders WHERE id = $1")
	must(err)
	for i := 0; i < 3; i++ {
		rows, err := st.Query(i)
		must(err)
		for rows.Next() {
		}
		rows.Close()
	}
	must(st.Close())
	_, err = db.Exec("INSERT INTO orders (id, note) VALUES ($1, $2)", 100, os.Args[2])
	must(err)
	if _, err = db.Exec("SELEC 1"); err == nil {
		fmt.Fprintln(os.Stderr, "the syntax error did not fail")
		os.Exit(1)
	}
	fmt.Println("done")
}
