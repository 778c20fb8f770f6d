// Command mybrowse looks customers up one at a time as a Go service or
// tool does: go-sql-driver's prepared statements, the id or email sent as a
// bound parameter in MySQL's binary protocol, never in the statement text.
//
//	mybrowse DSN id|email FIRST LAST
package main

import (
	"database/sql"
	"fmt"
	"os"
	"strconv"

	_ "github.com/go-sql-driver/mysql"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mybrowse:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: mybrowse DSN id|email FIRST LAST")
	}
	first, err := strconv.Atoi(args[2])
	if err != nil {
		return err
	}
	last, err := strconv.Atoi(args[3])
	if err != nil {
		return err
	}
	db, err := sql.Open("mysql", args[0])
	if err != nil {
		return err
	}
	defer db.Close()
	query := "SELECT id, name, email FROM customers WHERE id = ?"
	if args[1] == "email" {
		query = "SELECT id, name, email FROM customers WHERE email = ?"
	}
	for id := first; id <= last; id++ {
		var arg any = id
		if args[1] == "email" {
			arg = fmt.Sprintf("customer%d@example.com", id)
		}
		var got int
		var name, email string
		if err := db.QueryRow(query, arg).Scan(&got, &name, &email); err != nil {
			return fmt.Errorf("customer %d: %w", id, err)
		}
	}
	return nil
}
