package optuna

import (
	"fmt"
	"net/url"
	"strings"
)

// searchPath is the libpq options value that makes the optuna views the
// tables Optuna sees.
const searchPath = "-csearch_path=optuna"

// URL turns a sweep DSN (a postgres:// or postgresql:// URL) into the
// storage URL Optuna's RDBStorage takes: SQLAlchemy only knows the
// postgresql:// scheme, and options=-csearch_path=optuna points Optuna at
// the read-only views. Other parameters (the socket directory in host=,
// port, sslmode) are kept as they are; psycopg2 passes them to libpq.
func URL(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("make optuna url: want a postgres:// URL DSN, not key=value settings")
	}
	u.Scheme = "postgresql"
	q := u.Query()
	if old := q.Get("options"); old != "" {
		if strings.Contains(old, "search_path") {
			return "", fmt.Errorf("make optuna url: the DSN's options already set search_path (%q)", old)
		}
		q.Set("options", old+" "+searchPath)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += "options=" + url.QueryEscape(searchPath)
	return u.String(), nil
}
