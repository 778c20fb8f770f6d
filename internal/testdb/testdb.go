package testdb

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testproc"
)

// Options configure a server.
type Options struct {
	// TLS turns on TLS with a fresh self-signed certificate (Server.CertPEM).
	TLS bool
	// Settings are extra server settings: PostgreSQL "-c name=value",
	// MariaDB "--name=value".
	Settings map[string]string
	// StartTimeout bounds the wait for readiness (default 60s).
	StartTimeout time.Duration
}

// Server is a running database server.
type Server struct {
	Engine string // "postgresql" or "mysql"
	Host   string // 127.0.0.1
	Port   int
	// Socket is the Unix socket path (MariaDB) or directory (PostgreSQL).
	Socket   string
	User     string
	Password string
	Database string
	// DSN connects over TCP: a postgres:// URL (sslmode=require with TLS,
	// disable without) or a go-sql-driver/mysql DSN.
	DSN     string
	DataDir string
	Dir     string
	// CertPEM is the server certificate when TLS is on.
	CertPEM []byte
	// Log holds the server's output so far.
	Log func() string

	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Stop stops the server and waits for it; Cleanup calls it too.
func (s *Server) Stop() {
	s.once.Do(func() {
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(30 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.done
			}
		}
	})
}

func findBinary(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if strings.Contains(n, "*") {
			if m, _ := filepath.Glob(n); len(m) > 0 {
				return m[len(m)-1]
			}
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	testenv.Skipf(t, "testdb: %s not installed", names[0])
	return ""
}

// runAs is the account servers run as: postgres when running as root
// (PostgreSQL refuses root), else the current user.
type account struct {
	cred     *syscall.Credential
	uid, gid int
}

func serverAccount(t testing.TB, name string) account {
	t.Helper()
	if os.Geteuid() != 0 {
		return account{uid: os.Getuid(), gid: os.Getgid()}
	}
	u, err := user.Lookup(name)
	if err != nil {
		testenv.Skipf(t, "testdb: running as root and there is no %s user to run the server as", name)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return account{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid: uid, gid: gid}
}

func tempDir(t testing.TB, prefix string, acc account) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	if err := os.Chown(dir, acc.uid, acc.gid); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return dir
}

// selfSigned writes a certificate and key for localhost and 127.0.0.1.
func selfSigned(t testing.TB, dir string, acc account) (certFile, keyFile string, certPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testdb: generating key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testdb: creating certificate: %v", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	for f, b := range map[string][]byte{certFile: certPEM, keyFile: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatalf("testdb: %v", err)
		}
		if err := os.Chown(f, acc.uid, acc.gid); err != nil {
			t.Fatalf("testdb: %v", err)
		}
	}
	return certFile, keyFile, certPEM
}

// logBuffer collects output and signals when a line contains ready.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// start runs cmd and waits until its output has a line containing ready.
func start(t testing.TB, s *Server, cmd *exec.Cmd, ready string, timeout time.Duration) {
	t.Helper()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	logs := &logBuffer{}
	s.Log = logs.String
	readyCh := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		signalled := false
		for sc.Scan() {
			logs.mu.Lock()
			logs.buf.WriteString(sc.Text())
			logs.buf.WriteByte('\n')
			logs.mu.Unlock()
			if !signalled && strings.Contains(sc.Text(), ready) {
				signalled = true
				close(readyCh)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	if err := cmd.Start(); err != nil {
		t.Fatalf("testdb: starting %s: %v", cmd.Path, err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	t.Cleanup(s.Stop)
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	select {
	case <-readyCh:
	case <-s.done:
		t.Fatalf("testdb: %s exited before it was ready:\n%s", filepath.Base(cmd.Path), logs.String())
	case <-time.After(timeout):
		t.Fatalf("testdb: %s not ready after %v:\n%s", filepath.Base(cmd.Path), timeout, logs.String())
	}
}

func run(t testing.TB, acc account, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: acc.cred}
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testdb: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// StartPostgres starts a PostgreSQL server (the newest installed under
// /usr/lib/postgresql) with trust authentication for user postgres on
// 127.0.0.1 and a socket directory. It is stopped and removed when the test
// ends.
func StartPostgres(t testing.TB, opts Options) *Server {
	t.Helper()
	initdb := findBinary(t, "/usr/lib/postgresql/*/bin/initdb", "initdb")
	postgres := filepath.Join(filepath.Dir(initdb), "postgres")
	if _, err := os.Stat(postgres); err != nil {
		testenv.Skipf(t, "testdb: postgres not installed beside %s", initdb)
	}
	acc := serverAccount(t, "postgres")
	dir := tempDir(t, "vigil-pg-", acc)
	data := filepath.Join(dir, "data")
	run(t, acc, initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	port := testproc.FreePort(t)
	args := []string{"-D", data, "-k", dir, "-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "logging_collector=off"}
	s := &Server{Engine: "postgresql", Host: "127.0.0.1", Port: port, Socket: dir, User: "postgres",
		Database: "postgres", DataDir: data, Dir: dir}
	sslmode := "disable"
	if opts.TLS {
		cert, key, pemb := selfSigned(t, dir, acc)
		s.CertPEM = pemb
		args = append(args, "-c", "ssl=on", "-c", "ssl_cert_file="+cert, "-c", "ssl_key_file="+key)
		sslmode = "require"
	}
	for k, v := range opts.Settings {
		args = append(args, "-c", k+"="+v)
	}
	s.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=%s", port, sslmode)
	cmd := exec.Command(postgres, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: acc.cred, Setpgid: true}
	cmd.Dir = dir
	start(t, s, cmd, "database system is ready to accept connections", opts.StartTimeout)
	return s
}

// StartMariaDB starts a MariaDB server with user vigil (password vigil) that
// may do anything, on 127.0.0.1 and a Unix socket. root has no password on the
// socket. It is stopped and removed when the test ends.
func StartMariaDB(t testing.TB, opts Options) *Server {
	t.Helper()
	mariadbd := findBinary(t, "mariadbd", "/usr/sbin/mariadbd", "mysqld", "/usr/sbin/mysqld")
	install := findBinary(t, "mariadb-install-db", "mysql_install_db")
	client := findBinary(t, "mariadb", "mysql")
	acc := serverAccount(t, "mysql")
	dir := tempDir(t, "vigil-my-", acc)
	data := filepath.Join(dir, "data")
	sock := filepath.Join(dir, "mysqld.sock")
	run(t, acc, install, "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve")
	port := testproc.FreePort(t)
	args := []string{"--no-defaults", "--datadir=" + data, "--socket=" + sock, "--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1", "--skip-name-resolve", "--pid-file=" + filepath.Join(dir, "mysqld.pid"),
		"--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=32M", "--skip-log-bin", "--console"}
	s := &Server{Engine: "mysql", Host: "127.0.0.1", Port: port, Socket: sock, User: "vigil", Password: "vigil",
		Database: "vigil", DataDir: data, Dir: dir}
	tlsParam := "false"
	if opts.TLS {
		cert, key, pemb := selfSigned(t, dir, acc)
		s.CertPEM = pemb
		args = append(args, "--ssl-cert="+cert, "--ssl-key="+key)
		tlsParam = "skip-verify"
	}
	for k, v := range opts.Settings {
		args = append(args, "--"+k+"="+v)
	}
	if os.Geteuid() == 0 && acc.cred == nil {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(mariadbd, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: acc.cred, Setpgid: true}
	cmd.Dir = dir
	start(t, s, cmd, "ready for connections", opts.StartTimeout)
	setup := "CREATE DATABASE vigil; CREATE USER 'vigil'@'%' IDENTIFIED BY 'vigil'; " +
		"GRANT ALL ON *.* TO 'vigil'@'%' WITH GRANT OPTION; FLUSH PRIVILEGES;"
	out, err := exec.Command(client, "--no-defaults", "--socket="+sock, "-uroot", "-e", setup).CombinedOutput()
	if err != nil {
		t.Fatalf("testdb: creating the vigil user: %v\n%s\n%s", err, out, s.Log())
	}
	s.DSN = fmt.Sprintf("vigil:vigil@tcp(127.0.0.1:%d)/vigil?tls=%s", port, tlsParam)
	return s
}
