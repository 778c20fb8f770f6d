package enrich

import (
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/vigilhq/vigil/agent/redact"
)

// ArgScrubber removes what must not leave the host from command lines: SQL
// passed on the command line (psql -c, mysql -e, sqlite3 "SELECT ...") is
// redacted like captured SQL, and passwords in options and connection
// strings are replaced by "?".
type ArgScrubber struct {
	red *redact.Redactor
}

// NewArgScrubber scrubs with red; a nil or disabled redactor scrubs nothing.
func NewArgScrubber(red *redact.Redactor) *ArgScrubber {
	return &ArgScrubber{red: red}
}

// sqlFlags take a statement as their value.
var sqlFlags = map[string]bool{"-c": true, "--command": true, "-e": true, "--execute": true, "--eval": true, "-cmd": true}

// sqlStart matches arguments that are statements themselves.
var sqlStart = regexp.MustCompile(`(?i)^\s*(select|insert|update|delete|with|copy|\\copy|create|alter|drop|grant|revoke|truncate|merge|replace|call|exec|execute|show|describe|explain|load|handler|set|values|table)\b`)

var (
	urlPassword  = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@\s/]*@`)
	conninfoPass = regexp.MustCompile(`(?i)\b(password\s*=\s*)('[^']*'|\S+)`)
)

// mysqlClients take -pPASSWORD.
var mysqlClients = map[string]bool{
	"mysql": true, "mariadb": true, "mysqldump": true, "mariadb-dump": true, "mysqladmin": true,
	"mariadb-admin": true, "mysqlimport": true, "mariadb-import": true, "mysqlpump": true, "mysqlsh": true,
}

// Scrub returns args with SQL redacted and passwords hidden. args[0] names
// the program, which picks the SQL dialect.
func (s *ArgScrubber) Scrub(args []string) []string {
	if s == nil || s.red == nil || s.red.Disabled() || len(args) == 0 {
		return args
	}
	prog := path.Base(args[0])
	dialect := redact.Postgres
	if mysqlClients[prog] {
		dialect = redact.MySQL
	}
	out := make([]string, len(args))
	copy(out, args)
	for i := 1; i < len(out); i++ {
		a := out[i]
		switch {
		case sqlFlags[a] && i+1 < len(out):
			i++
			out[i] = s.red.Redact(dialect, out[i]).Statement
		case strings.HasPrefix(a, "--") && strings.Contains(a, "="):
			name, val, _ := strings.Cut(a, "=")
			switch {
			case sqlFlags[name]:
				out[i] = name + "=" + s.red.Redact(dialect, val).Statement
			case strings.Contains(name, "password") || strings.Contains(name, "passwd"):
				out[i] = name + "=?"
			default:
				out[i] = scrubSecrets(a)
			}
		case mysqlClients[prog] && strings.HasPrefix(a, "-p") && len(a) > 2:
			out[i] = "-p?"
		case mysqlClients[prog] && strings.HasPrefix(a, "-e") && len(a) > 2:
			out[i] = "-e" + s.red.Redact(dialect, a[2:]).Statement
		case prog == "psql" && strings.HasPrefix(a, "-c") && len(a) > 2:
			out[i] = "-c" + s.red.Redact(dialect, a[2:]).Statement
		case sqlStart.MatchString(a):
			out[i] = s.red.Redact(dialect, a).Statement
		default:
			out[i] = scrubSecrets(a)
		}
	}
	return out
}

// scrubSecrets hides passwords in URLs and key=value connection strings.
func scrubSecrets(a string) string {
	if strings.Contains(a, "://") {
		if u, err := url.Parse(a); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				return urlPassword.ReplaceAllString(a, "${1}?@")
			}
		}
	}
	if strings.Contains(strings.ToLower(a), "password") {
		return conninfoPass.ReplaceAllString(a, "${1}?")
	}
	return a
}
