package testdb

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Chunk is what one read on one side of a proxied connection returned.
type Chunk struct {
	Conn       int       `json:"conn"`
	FromClient bool      `json:"from_client"`
	Time       time.Time `json:"time"`
	Data       []byte    `json:"data"`
}

// Proxy is a recording TCP proxy: clients connect to Addr, it forwards to the
// server and records every chunk each way, like a capture of send and recv.
type Proxy struct {
	Addr string

	ln     net.Listener
	target string
	mu     sync.Mutex
	chunks []Chunk
	nconn  int
	wg     sync.WaitGroup
	conns  []net.Conn
}

// StartProxy listens on 127.0.0.1 and forwards to target. It is closed when
// the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testdb: proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		id := p.nconn
		p.nconn++
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(id, true, c, s)
		go p.pipe(id, false, s, c)
	}
}

func (p *Proxy) pipe(id int, fromClient bool, src, dst net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			p.chunks = append(p.chunks, Chunk{Conn: id, FromClient: fromClient, Time: time.Now(), Data: append([]byte(nil), buf[:n]...)})
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	// Pass the close on so the other side ends too.
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		dst.Close()
	}
	_, _ = io.Copy(io.Discard, src)
}

// Chunks returns the chunks recorded so far, in the order they were read.
func (p *Proxy) Chunks() []Chunk {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Chunk(nil), p.chunks...)
}

// Close stops the proxy, closes its connections and waits for its
// goroutines.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
