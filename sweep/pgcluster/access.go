package pgcluster

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Files in pgdata that sweep writes on every start.
const (
	hbaFile     = "pg_hba.conf"
	identFile   = "pg_ident.conf"
	tlsCertFile = "sweep-server.crt"
	tlsKeyFile  = "sweep-server.key"
	// hbaMarker opens the pg_hba.conf that sweep writes; a cluster without
	// it was made by an older sweep with trust authentication.
	hbaMarker = "# sweep: only the owner may connect"
	identMap  = "owner"
)

// checkDir refuses a cluster directory that another account controls:
// one owned by someone else, or writable by group or others, could have its
// configuration or binaries' inputs replaced. A directory root made for a
// cluster not yet initialised (MkdirTemp in tests, mkdir by hand) is handed
// to the server account instead; a readable one is narrowed to 0700.
func (o owner) checkDir(dir string, initialized bool) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("check data dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("check data dir %s: not a directory", dir)
	}
	mode := fi.Mode().Perm()
	if mode&0o022 != 0 {
		return fmt.Errorf("check data dir %s: it is writable by other users (mode %04o), who could take over "+
			"the database; make it private (chmod 0700 %s) or choose another --pg-dir", dir, mode, dir)
	}
	uid := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid = int(st.Uid)
	}
	if uid != o.uid {
		if uid == 0 && o.cred != nil && !initialized {
			if err := o.chown(dir); err != nil {
				return err
			}
		} else {
			return fmt.Errorf("check data dir %s: it belongs to %s, not to %s who runs the server; "+
				"sweep does not run a cluster that another user controls (choose another --pg-dir)",
				dir, userName(uid), o.describeServer())
		}
	}
	if mode&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("make data dir private: %w", err)
		}
	}
	return nil
}

// userName names uid for messages: "alice (uid 1000)".
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return fmt.Sprintf("%s (uid %d)", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}

// describeServer names the server's account for messages.
func (o owner) describeServer() string { return userName(o.uid) }

// describe names the accounts that may connect, for messages.
func (o owner) describe() string { return "user " + strings.Join(o.clients, " and ") }

// trustCluster reports whether pgdata's pg_hba.conf was not written by
// this version of sweep (older ones used trust for everyone).
func (c *Cluster) trustCluster() bool {
	b, err := os.ReadFile(filepath.Join(c.pgdata(), hbaFile))
	return err == nil && !strings.Contains(string(b), hbaMarker)
}

// writeAccess writes pg_hba.conf and pg_ident.conf: the unix socket with
// peer authentication mapped to the owner's accounts only, and TCP (when
// listen_addresses enables it) with scram-sha-256 only. Both are rewritten
// on every start, so an edit cannot silently widen access.
func (c *Cluster) writeAccess(o owner) error {
	hba := hbaMarker + ` (written by sweep on every start; edits are overwritten).
# Unix socket: the kernel names the client's account; pg_ident.conf maps only
# the owner's accounts to roles. TCP: a password (scram-sha-256) is required;
# TCP is off unless sweep db up --listen turned it on.
# TYPE  DATABASE  USER  ADDRESS  METHOD
local   all       all            peer map=` + identMap + `
host    all       all   all      scram-sha-256
`
	var ident strings.Builder
	ident.WriteString("# Written by sweep on every start: the accounts that own this cluster.\n")
	ident.WriteString("# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\n")
	for _, name := range o.clients {
		fmt.Fprintf(&ident, "%s  %s  %s\n", identMap, name, Superuser)
	}
	for name, text := range map[string]string{hbaFile: hba, identFile: ident.String()} {
		path := filepath.Join(c.pgdata(), name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := o.chown(path); err != nil {
			return err
		}
	}
	return nil
}

// writeTLS writes the server certificate and key into pgdata, owned by the
// server account with mode 0600 (PostgreSQL refuses a readable key).
func (c *Cluster) writeTLS(o owner) error {
	if len(c.TLSCert) == 0 || len(c.TLSKey) == 0 {
		return nil
	}
	for name, pem := range map[string][]byte{tlsCertFile: c.TLSCert, tlsKeyFile: c.TLSKey} {
		path := filepath.Join(c.pgdata(), name)
		if err := os.WriteFile(path, pem, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := o.chown(path); err != nil {
			return err
		}
	}
	return nil
}

// Password returns the TCP password from the pgpass file, for tests and
// tools that cannot use the file directly. It is empty before TCP was
// first turned on.
func (c *Cluster) Password() (string, error) {
	f, err := os.Open(c.PassFile())
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read password file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.LastIndexByte(line, ':'); i >= 0 {
			return line[i+1:], nil
		}
	}
	return "", fmt.Errorf("read password file %s: no password line", c.PassFile())
}

// setPassword makes the pgpass file on first use (a random password, mode
// 0600) and sets the role's password from it. Only the SCRAM verifier is
// sent, so the password is in no statement the server could log.
func (c *Cluster) setPassword(ctx context.Context, port int) error {
	pw, err := c.Password()
	if err != nil {
		return err
	}
	if pw == "" {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("generate password: %w", err)
		}
		// URL-safe base64 has no ':' or '\', which pgpass would escape.
		pw = base64.RawURLEncoding.EncodeToString(b[:])
		line := fmt.Sprintf("# sweep's private cluster %s: for remote workers, copy this file and set PGPASSFILE\n"+
			"*:*:*:%s:%s\n", c.Dir, Superuser, pw)
		if err := os.WriteFile(c.PassFile(), []byte(line), 0o600); err != nil {
			return fmt.Errorf("write password file: %w", err)
		}
	}
	verifier, err := scramVerifier(pw)
	if err != nil {
		return err
	}
	db, err := sql.Open("postgres", c.socketDSN(port, "postgres"))
	if err != nil {
		return fmt.Errorf("open postgres database: %w", err)
	}
	defer db.Close()
	// ALTER ROLE takes no parameters; the verifier is base64 and '$'/':'.
	if _, err := db.ExecContext(ctx, `ALTER ROLE `+Superuser+` PASSWORD '`+verifier+`'`); err != nil {
		return fmt.Errorf("set tcp password: %w", err)
	}
	return nil
}

// scramVerifier returns PostgreSQL's stored form of a SCRAM-SHA-256
// password (RFC 5802/7677, as psql's \password computes it client-side):
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
func scramVerifier(password string) (string, error) {
	const iterations = 4096
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("derive scram key: %w", err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	server := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored[:]), b64(server)), nil
}
