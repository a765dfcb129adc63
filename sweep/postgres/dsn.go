package postgres

import (
	"net/url"
	"strings"
)

// Password returns the password written in dsn (a postgres:// URL's user
// info or password parameter, or a key=value password), "" when it has
// none. Passwords kept in a pgpass file (PGPASSFILE, passfile=) are not in
// the DSN and so not returned.
func Password(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				return pw
			}
			return u.Query().Get("password")
		}
		// An unparsable URL: take what sits between "user:" and the last '@'.
		rest := dsn[strings.Index(dsn, "://")+3:]
		if at := strings.LastIndexByte(rest, '@'); at > 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				return pw
			}
		}
		return ""
	}
	return kvPassword(dsn)
}

// kvPassword finds password=... in a key=value DSN, quoted or not.
func kvPassword(dsn string) string {
	for i := 0; i < len(dsn); {
		j := strings.Index(dsn[i:], "password")
		if j < 0 {
			return ""
		}
		k := i + j + len("password")
		start := i + j
		i = k
		if start > 0 && dsn[start-1] != ' ' && dsn[start-1] != '\t' {
			continue
		}
		for k < len(dsn) && dsn[k] == ' ' {
			k++
		}
		if k >= len(dsn) || dsn[k] != '=' {
			continue
		}
		k++
		for k < len(dsn) && dsn[k] == ' ' {
			k++
		}
		if k < len(dsn) && dsn[k] == '\'' {
			var b strings.Builder
			for k++; k < len(dsn) && dsn[k] != '\''; k++ {
				if dsn[k] == '\\' && k+1 < len(dsn) {
					k++
				}
				b.WriteByte(dsn[k])
			}
			return b.String()
		}
		end := strings.IndexAny(dsn[k:], " \t")
		if end < 0 {
			return dsn[k:]
		}
		return dsn[k : k+end]
	}
	return ""
}

// Redact returns s with every form of dsn's password (as written, and URL
// decoded or encoded) replaced by "xxxxx", for messages that quote a DSN.
func Redact(s, dsn string) string {
	pw := Password(dsn)
	if pw == "" {
		return s
	}
	forms := []string{pw, url.QueryEscape(pw), url.PathEscape(pw), url.UserPassword("u", pw).String()[2:]}
	if raw := rawURLPassword(dsn); raw != "" {
		forms = append(forms, raw)
	}
	for _, f := range forms {
		if f != "" {
			s = strings.ReplaceAll(s, f, "xxxxx")
		}
	}
	return s
}

// rawURLPassword is a URL DSN's password as written (still percent-encoded).
func rawURLPassword(dsn string) string {
	i := strings.Index(dsn, "://")
	if i < 0 {
		return ""
	}
	rest := dsn[i+3:]
	if slash := strings.IndexByte(rest, '/'); slash >= 0 && strings.LastIndexByte(rest[:slash], '@') < 0 {
		return ""
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}

// redactedError is an error whose text had a password removed. Unwrap
// keeps errors.Is working; only Error's text differs.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr removes dsn's password from err's text. Parse errors of lib/pq
// and net/url quote the whole DSN, password included.
func redactErr(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := Redact(msg, dsn); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}
