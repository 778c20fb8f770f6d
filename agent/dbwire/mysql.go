package dbwire

import "time"

type mysql struct{ t *Tracker }

func newMySQL(t *Tracker) *mysql                                            { return &mysql{t: t} }
func (m *mysql) feed(dir Direction, ts time.Time, data []byte, missing int) {}
func (m *mysql) flush(ts time.Time)                                         {}
