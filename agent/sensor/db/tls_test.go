package db_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// A TLS client's plaintext is captured from libssl, on the connection its
// SSL object runs over: openssl s_client (libssl) against a Go TLS server
// (not libssl, so only the client's side is seen).
func TestTLSCapture(t *testing.T) {
	testkernel.RequireRoot(t)
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		testenv.Skip(t, "needs the openssl command, linked to libssl")
	}
	sensortest.EachBuild(t, func(t *testing.T, compat bool) { testTLSCapture(t, openssl, compat) })
}

func testTLSCapture(t *testing.T, openssl string, compat bool) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	set := startBuild(t, db.New(db.Config{Ports: []uint16{uint16(port)}}), compat)
	defer set.Close()
	timeout := time.AfterFunc(20*time.Second, func() { set.Close() })
	defer timeout.Stop()

	msg := "SELECT 'over tls';\n"
	got := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		_, err = io.ReadFull(c, make([]byte, len(msg)))
		got <- err
	}()
	cl := exec.Command(openssl, "s_client", "-quiet", "-connect", "127.0.0.1:"+strconv.Itoa(port))
	cl.Stdin = strings.NewReader(msg)
	if err := cl.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cl.Process.Kill(); _ = cl.Wait() }()
	if err := <-got; err != nil {
		t.Fatalf("server reading the client's bytes: %v", err)
	}

	d := sensortest.Next(t, set, "the client's plaintext", func(r any) bool {
		d, ok := r.(*db.Data)
		return ok && d.TLS && bytes.Equal(d.Data, []byte(msg))
	}).(*db.Data)
	if !d.Sent || d.Conn.Remote.Port() != uint16(port) {
		t.Errorf("plaintext captured as sent %v on %+v, want sent on the connection to port %d", d.Sent, d.Conn, port)
	}
}

// selfSigned returns a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
