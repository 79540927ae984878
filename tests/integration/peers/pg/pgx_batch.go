// SPDX-License-Identifier: MIT
// Go pgx v4 batches: statements prepared together, then many Bind/Execute
// before one Sync (pipelining). The second batch fails in its second command:
// the server skips the third. Usage: pgx_batch DSN SECRET; prints "done".
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v4"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func run(ctx context.Context, conn *pgx.Conn, b *pgx.Batch, errors int) {
	br := conn.SendBatch(ctx, b)
	failed := 0
	for i := 0; i < b.Len(); i++ {
		rows, err := br.Query()
		if err == nil {
			for rows.Next() {
			}
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			failed++
		}
	}
	br.Close()
	if failed != errors {
		fail(fmt.Errorf("%d commands failed, want %d", failed, errors))
	}
}

func main() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Args[1])
	if err != nil {
		fail(err)
	}
	b := &pgx.Batch{}
	for i := 0; i < 5; i++ {
		b.Queue("SELECT id FROM orders WHERE id = $1", i)
	}
	b.Queue("UPDATE orders SET note = $1 WHERE id = 1", os.Args[2])
	run(ctx, conn, b, 0)
	b = &pgx.Batch{}
	b.Queue("SELECT $1::int", 1)
	b.Queue("SELECT 1 / $1::int", 0)
	b.Queue("SELECT $1::int + 1", 2)
	run(ctx, conn, b, 2)
	conn.Close(ctx)
	fmt.Println("done")
}
