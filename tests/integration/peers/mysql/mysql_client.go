// SPDX-License-Identifier: MIT
// A Go database/sql client with go-sql-driver/mysql, for
// tests/integration/test_mysql.py: a statement prepared once and run three
// times with bound values, an Exec with arguments (prepared, run, closed by
// the driver), a syntax error. Usage: mysql_client DSN SECRET
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/go-sql-driver/mysql"
)

func main() {
	db, err := sql.Open("mysql", os.Args[1])
	if err != nil {
		panic(err)
	}
	db.SetMaxOpenConns(1)
	secret := os.Args[2]
	stmt, err := db.Prepare("SELECT id, item FROM orders WHERE qty > ? AND item <> ?")
	if err != nil {
		panic(err)
	}
	for i := 0; i < 3; i++ {
		rows, err := stmt.Query(i, secret)
		if err != nil {
			panic(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if n != 3 {
			panic(fmt.Sprintf("%d rows", n))
		}
	}
	stmt.Close()
	if _, err := db.Exec("UPDATE orders SET qty = qty + ? WHERE item = ?", 1, secret); err != nil {
		panic(err)
	}
	if _, err := db.Exec("SELEC broken"); err == nil {
		panic("no error")
	}
	db.Close()
	fmt.Println("done")
}
