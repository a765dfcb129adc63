package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sweep/sweep/pgcluster"
	"sweep/sweep/postgres"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serverCert issues a certificate for host names dns, returning cert and
// key in PEM.
func (ca *testCA) serverCert(t *testing.T, dns ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: dns[0]},
		DNSNames:     dns,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// TestOpen_TLSVerifyFull is docs/security.md's recipe for an external
// server: a server with a certificate from a private CA, reached with
// sslmode=verify-full and sslrootcert naming that CA. It connects and the
// session is encrypted; another CA, or a host name the certificate does not
// name, is refused.
func TestOpen_TLSVerifyFull(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ca := newTestCA(t, "sweep test CA")
	certPEM, keyPEM := ca.serverCert(t, "localhost")
	dir := t.TempDir()
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil { // the server user must enter it as root
		t.Fatal(err)
	}
	c, err := pgcluster.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.NoSync, c.Settings = true, map[string]string{"fsync": "off"}
	c.TLSCert, c.TLSKey, c.Listen = certPEM, keyPEM, "127.0.0.1"
	srv, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())

	files := t.TempDir()
	caFile := filepath.Join(files, "ca.pem")
	otherFile := filepath.Join(files, "other-ca.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherFile, newTestCA(t, "someone else").pem, 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv.TCPURL)
	if err != nil {
		t.Fatal(err)
	}
	dsn := func(host, mode, root string) string {
		v := url.Values{"sslmode": {mode}, "sslrootcert": {root}, "passfile": {c.PassFile()}}
		return "postgres://sweep@" + host + ":" + u.Port() + "/sweep?" + v.Encode()
	}

	s, err := postgres.Open(ctx, dsn("localhost", "verify-full", caFile))
	if err != nil {
		t.Fatalf("verify-full with the server's CA: %v", err)
	}
	var ssl bool
	var version string
	if err := s.DB().QueryRowContext(ctx, `SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&ssl, &version); err != nil || !ssl {
		t.Errorf("session ssl = %v (%s), %v; want encrypted", ssl, version, err)
	}
	s.Close()

	for _, c := range []struct{ name, dsn, want string }{
		{"another CA", dsn("localhost", "verify-full", otherFile), "certificate signed by unknown authority"},
		{"a host the certificate does not name", dsn("127.0.0.1", "verify-full", caFile), "127.0.0.1"},
	} {
		if s, err := postgres.Open(ctx, c.dsn); err == nil {
			s.Close()
			t.Errorf("verify-full with %s: connected; want refused", c.name)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("verify-full with %s: %v; want %q", c.name, err, c.want)
		}
	}
}
