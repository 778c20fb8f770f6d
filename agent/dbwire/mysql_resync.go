package dbwire

// resync finds a packet boundary in data. Client commands are sent whole, so
// the client side looks for a command packet (sequence 0) filling the capture.
// The server side looks for a run of packets with consecutive sequence ids
// to the end of the capture.
func (m *mysql) resync(dir Direction, data []byte) int {
	if m.phase != myCommand {
		return -1
	}
	if dir == ClientToServer {
		// Commands are written whole, a few at a time (a statement close
		// and the next query): a capture of whole sequence-0 commands.
		for b := data; ; {
			if len(b) < myHeaderLen+1 {
				return -1
			}
			n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
			if b[3] != 0 || n == 0 || !myKnownCommand(b[4]) || myHeaderLen+n > len(b) {
				return -1
			}
			b = b[myHeaderLen+n:]
			if len(b) == 0 {
				return 0
			}
		}
	}
	for i := 0; i+myHeaderLen < len(data); i++ {
		if m.serverChain(data[i:], i == 0) {
			return i
		}
	}
	return -1
}

func myKnownCommand(c byte) bool {
	switch c {
	case myComQuit, myComInitDB, myComQuery, myComFieldList, myComChangeUser, myComStmtPrepare,
		myComStmtExecute, myComStmtSend, myComStmtClose, myComStmtFetch, myComBulkExecute,
		0x0e, 0x1a, 0x1b, 0x1f, 0x09, 0x0d:
		return true
	}
	return false
}

func (m *mysql) serverChain(data []byte, atStart bool) bool {
	count := 0
	var prev byte
	for len(data) >= myHeaderLen {
		n := int(data[0]) | int(data[1])<<8 | int(data[2])<<16
		seq := data[3]
		if count > 0 && seq != prev+1 {
			return false
		}
		if n == 0 && m.state != rsRows {
			return false
		}
		prev = seq
		count++
		if count >= maxChain {
			return true
		}
		if myHeaderLen+n > len(data) {
			if n > maxRunPast {
				return false
			}
			return count >= 3 || atStart && count >= 2
		}
		data = data[myHeaderLen+n:]
	}
	if len(data) != 0 {
		// A header cut by the end of the capture.
		return count >= 3
	}
	return count >= 3 || atStart && count >= 1 && m.cmd != nil && prev == m.lastSeq+1
}
