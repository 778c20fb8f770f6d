package dbwire

import (
	"encoding/binary"
	"time"
)

// MySQL capability flags and constants.
const (
	myClientConnectWithDB    = 0x00000008
	myClientCompress         = 0x00000020
	myClientProtocol41       = 0x00000200
	myClientSSL              = 0x00000800
	myClientSecureConn       = 0x00008000
	myClientPluginAuth       = 0x00080000
	myClientPluginAuthLenenc = 0x00200000
	myClientDeprecateEOF     = 0x01000000
	myClientQueryAttributes  = 0x08000000

	myServerMoreResults = 0x0008
	myServerNoBackslash = 0x0200

	myHeaderLen    = 4
	myMaxPacket    = 0xffffff
	myRowKeep      = 32 // bytes of a row packet kept: enough for EOF/OK/ERR heads
	myMaxHandshake = 4096
)

type myPhase uint8

const (
	myStart   myPhase = iota // nothing seen
	myGreeted                // server greeting seen, handshake response due
	myAuth                   // handshake response sent, waiting for OK
	myCommand                // command phase
	myEncrypted
)

type myStmt struct {
	sql     string
	nparams int
	columns []string
	types   []byte // two bytes per parameter, from the last execute that sent them
}

// myCmd is the command in progress.
type myCmd struct {
	cmd     byte
	start   time.Time
	parts   []string // COM_QUERY: statements
	idx     int
	stmt    *myStmt
	params  []string // COM_STMT_EXECUTE: parameter values as text ("" unknown)
	hasVals []bool
	initDB  string
	prepare string
	// current result
	rows     uint64
	rowBytes uint64 // bytes of the rows seen
	rowsSeen uint64
	bytes    uint64
	columns  []string
	partial  bool
}

type mysql struct {
	t       *Tracker
	client  reader
	server  reader
	phase   myPhase
	srvCaps uint32
	caps    uint32 // effective capabilities
	status  uint16
	stmts   map[uint32]*myStmt
	cmd     *myCmd
	state   myState
	ncols   int
	left    int // column definitions or packets still to come
	lastSeq byte
	gapped  int // bytes lost in the server stream since the last packet
	cont    [3]bool
	probe   []byte
	// mariaCaps are MariaDB's extended client capabilities.
	mariaCaps uint32
	// compress is the compression both ends agreed on (myClientCompress
	// or myClientZstd, 0 for none); inflate undoes it, by direction (client
	// first), once authentication is over.
	compress uint32
	inflate  [2]*myInflater
	decided  bool // whether the connection's start was seen
	probeDir Direction
	// skipCols is the index, among the packets skipped after a prepare, of
	// the first column definition.
	skipCols int
	prepared *myStmt
}

// mariaCacheMetadata: COM_STMT_EXECUTE results say whether column
// definitions follow or are the ones sent at prepare.
const mariaCacheMetadata = 1 << 4

func newMySQL(t *Tracker) *mysql {
	m := &mysql{t: t, stmts: map[uint32]*myStmt{}}
	m.client = reader{dir: ClientToServer, t: t, f: m}
	m.server = reader{dir: ServerToClient, t: t, f: m}
	return m
}

func (m *mysql) deprecateEOF() bool { return m.caps&myClientDeprecateEOF != 0 }

func (m *mysql) feed(dir Direction, ts time.Time, data []byte, missing int) {
	if !m.decided {
		if len(m.probe) > 0 && dir != m.probeDir {
			// The other side spoke first: decide on what the first had.
			p := m.probe
			m.probe = nil
			m.feedStart(m.probeDir, ts, p, 0)
		} else if missing == 0 && len(m.probe)+len(data) < myProbeNeed(append(m.probe[:len(m.probe):len(m.probe)], data...)) {
			// Too little to tell a greeting or handshake response: wait.
			m.probe = append(m.probe, data...)
			m.probeDir = dir
			return
		} else if len(m.probe) > 0 {
			data = append(m.probe, data...)
			m.probe = nil
		}
	}
	m.feedStart(dir, ts, data, missing)
}

func (m *mysql) feedStart(dir Direction, ts time.Time, data []byte, missing int) {
	if m.phase == myStart && !m.decided {
		m.decided = true
		switch {
		case dir == ServerToClient && myGreeting(data):
		case dir == ClientToServer && myHandshakeResponse(data):
		default:
			// Mid-connection: commands are sent whole, so the client side
			// syncs on the next command; the server side on its answer.
			m.phase = myCommand
			m.client.lost = true
			m.server.lost = true
		}
	}
	i, r := 0, &m.client
	if dir != ClientToServer {
		i, r = 1, &m.server
	}
	if z := m.inflate[i]; z != nil {
		if err := z.feed(ts, data, missing); err != nil || z.lost {
			m.t.giveUp(ReasonCompressed)
		}
	} else {
		r.feed(ts, data, missing)
	}
	m.t.sess.Synced = !m.client.lost && !m.server.lost
}

// startCompression switches both directions to compressed packets, when
// the ends agreed on them, as the server's OK ends authentication.
func (m *mysql) startCompression() {
	if m.compress == 0 || m.inflate[0] != nil {
		return
	}
	for i, r := range []*reader{&m.client, &m.server} {
		m.inflate[i] = &myInflater{zstd: m.compress == myClientZstd, deliver: r.feed}
	}
}

// myProbeNeed is how many first bytes tell how a connection starts: the
// first packet, up to 40 bytes.
func myProbeNeed(b []byte) int {
	if len(b) < myHeaderLen {
		return myHeaderLen
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	return min(myHeaderLen+n, 40)
}

func (m *mysql) headerLen(Direction) int { return myHeaderLen }

func (m *mysql) bodyLen(dir Direction, hdr []byte) (int, int, bool) {
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if dir == ServerToClient && m.state == rsRows && !m.cont[dir] {
		return n, min(n, myRowKeep), true
	}
	return n, min(n, m.t.cfg.MaxMessage), true
}

func (m *mysql) message(dir Direction, start, end time.Time, hdr, body []byte, n int, complete bool) {
	seq := hdr[3]
	cont := m.cont[dir]
	m.cont[dir] = n == myMaxPacket
	if dir == ClientToServer {
		if cont {
			if m.cmd != nil && len(m.cmd.parts) == 1 && len(m.cmd.parts[0]) < m.t.cfg.MaxMessage {
				m.cmd.parts[0] += string(body)
			}
			return
		}
		m.clientPacket(start, seq, body, complete)
		return
	}
	if m.gapped > 0 && m.state == rsRows && m.cmd != nil {
		m.countGapRows(seq)
	}
	m.gapped = 0
	m.lastSeq = seq
	if cont {
		if m.cmd != nil {
			m.cmd.bytes += uint64(myHeaderLen + n)
		}
		return
	}
	m.serverPacket(end, seq, body, n, complete)
}

// lenenc reads a length-encoded integer; k is its size, 0 when invalid.
func lenenc(b []byte) (v uint64, k int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch c := b[0]; {
	case c < 0xfb:
		return uint64(c), 1
	case c == 0xfc && len(b) >= 3:
		return uint64(binary.LittleEndian.Uint16(b[1:])), 3
	case c == 0xfd && len(b) >= 4:
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4
	case c == 0xfe && len(b) >= 9:
		return binary.LittleEndian.Uint64(b[1:]), 9
	}
	return 0, 0
}
