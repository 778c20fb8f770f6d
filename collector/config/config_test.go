package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// every sets every attribute to something other than its default.
const every = `
data_dir          = "/srv/vigil"
store             = "postgres://vigil@db.example:5432/vigil"
rules_dir         = "/srv/rules"
host_rules_dir    = "/srv/host-rules"
allowed_rule_sets = ["aa11", "bb22"]
print_alerts      = true
verbose           = true
attribution_grace = "45s"
bundle_grace      = "5m"

nats {
  listen         = "0.0.0.0:4223"
  urls           = ["nats://a:4222", "nats://b:4222"]
  creds          = "/etc/vigil/collector-credentials/nats.creds"
  auth           = false
  tls_cert       = "/c/server.pem"
  tls_key        = "/c/server-key.pem"
  tls_ca         = "/c/ca.pem"
  tls_verify     = true
  replicas       = 3
  stream_max_age = "72h"
  dedupe_window  = "5m"
}

http {
  listen   = "0.0.0.0:8443"
  tls_cert = "/c/http.pem"
  tls_key  = "/c/http-key.pem"
  console  = false
}

ocsf {
  file                = "/var/log/vigil/ocsf.jsonl"
  webhook             = "https://siem.example/hook"
  webhook_secret_file = "/c/hook.secret"
  syslog              = "tls://siem.example:6514"
}

retention {
  events = "240h"
  alerts = "4380h"
}

checkpoint {
  every   = "30s"
  file    = "/mnt/worm/vigil-checkpoints.jsonl"
  command = "logger -t vigil-checkpoint"
}

correlation {
  collector_id = "soc-a"
  partitions   = 16
  lease_ttl    = "20s"
  replay       = "12h"
}
`

// The same settings as flags.
var everyFlags = []string{"--data", "/srv/vigil", "--store", "postgres://vigil@db.example:5432/vigil", "--rules", "/srv/rules", "--host-rules", "/srv/host-rules",
	"--allowed-rule-sets", "aa11,bb22", "--print-alerts", "--verbose", "--attribution-grace", "45s", "--bundle-grace", "5m",
	"--nats-listen", "0.0.0.0:4223", "--nats-url", "nats://a:4222,nats://b:4222",
	"--nats-creds", "/etc/vigil/collector-credentials/nats.creds", "--auth=false", "--tls-cert", "/c/server.pem",
	"--tls-key", "/c/server-key.pem", "--tls-ca", "/c/ca.pem", "--tls-verify", "--replicas", "3",
	"--stream-max-age", "72h", "--dedupe-window", "5m", "--http", "0.0.0.0:8443", "--http-tls-cert", "/c/http.pem",
	"--http-tls-key", "/c/http-key.pem", "--no-console", "--ocsf", "/var/log/vigil/ocsf.jsonl",
	"--ocsf-webhook", "https://siem.example/hook", "--ocsf-webhook-secret", "/c/hook.secret",
	"--ocsf-syslog", "tls://siem.example:6514", "--retain-events", "240h", "--retain-alerts", "4380h",
	"--checkpoint-every", "30s", "--checkpoint-file", "/mnt/worm/vigil-checkpoints.jsonl", "--checkpoint-command", "logger -t vigil-checkpoint",
	"--collector-id", "soc-a", "--partitions", "16", "--lease-ttl", "20s", "--correlation-replay", "12h"}

func parseFlags(t *testing.T, args ...string) (*Config, *pflag.FlagSet) {
	t.Helper()
	c := Default()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c, fs
}

// Every flag has an attribute that sets the same thing, and every
// attribute a flag: a file with all of them and the same flags give the
// same configuration, and neither is the default.
func TestEveryFlagHasAnAttribute(t *testing.T) {
	fromFile, err := Parse("collector.hcl", []byte(every))
	if err != nil {
		t.Fatal(err)
	}
	fromFlags, fs := parseFlags(t, everyFlags...)
	if !reflect.DeepEqual(fromFile, fromFlags) {
		t.Errorf("file and flags differ:\nfile  %+v\nflags %+v", fromFile, fromFlags)
	}
	def := reflect.ValueOf(*Default())
	got := reflect.ValueOf(*fromFile)
	var unset func(prefix string, d, g reflect.Value)
	unset = func(prefix string, d, g reflect.Value) {
		for i := 0; i < d.NumField(); i++ {
			name := prefix + d.Type().Field(i).Name
			if d.Field(i).Kind() == reflect.Struct {
				unset(name+".", d.Field(i), g.Field(i))
			} else if reflect.DeepEqual(d.Field(i).Interface(), g.Field(i).Interface()) {
				t.Errorf("%s: the test file leaves it at its default", name)
			}
		}
	}
	unset("", def, got)
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := Attributes[f.Name]; !ok {
			t.Errorf("--%s has no collector.hcl attribute", f.Name)
		}
		if !f.Changed {
			t.Errorf("--%s: the test does not set it", f.Name)
		}
	})
	for flag, attr := range Attributes {
		if fs.Lookup(flag) == nil {
			t.Errorf("Attributes names --%s, which run does not have", flag)
		}
		name := attr[strings.LastIndex(attr, ".")+1:]
		if !strings.Contains(every, "\n"+strings.Repeat(" ", strings.Count(attr, ".")*2)+name+" ") {
			t.Errorf("%s is not in the test file", attr)
		}
	}
}

// A flag wins over the file, also when it repeats the default; what the
// flags leave out comes from the file, and what both leave out is the
// default.
func TestFlagsOverrideFile(t *testing.T) {
	c, err := Parse("collector.hcl", []byte(`
data_dir = "/srv/vigil"
nats {
  listen = "0.0.0.0:4223"
  auth   = false
  urls   = ["nats://a:4222"]
}
http {
  listen  = "0.0.0.0:8443"
  console = false
}
retention { events = "240h" }
`))
	if err != nil {
		t.Fatal(err)
	}
	_, fs := parseFlags(t, "--http", "127.0.0.1:9090", "--auth=true", "--nats-url", "nats://x:4222,nats://y:4222",
		"--retain-events", "48h", "--no-console=false", "--replicas", "1")
	if err := c.Override(fs); err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.DataDir = "/srv/vigil"
	want.NATS.Listen = "0.0.0.0:4223"
	want.NATS.URLs = []string{"nats://x:4222", "nats://y:4222"}
	want.HTTP.Listen = "127.0.0.1:9090"
	want.Retention.Events = 48 * time.Hour
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

// A bad file is refused with file:line:column and what is wrong there.
func TestParseBadInput(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"syntax", "data_dir = \"/srv\"\nnats {\n  listen = \n}\n", "collector.hcl:3:"},
		{"unclosed block", "nats {\n  listen = \"x\"\n", "collector.hcl:1:"},
		{"unknown attribute", "data_dir = \"/srv\"\nnats {\n  lisen = \"0.0.0.0:4222\"\n}\n", `collector.hcl:3:3: Unsupported argument: An argument named "lisen" is not expected here. Did you mean "listen"?`},
		{"unknown top-level attribute", "datadir = \"/srv\"\n", `collector.hcl:1:1: Unsupported argument`},
		{"unknown block", "nat {\n}\n", `collector.hcl:1:1: Unsupported block type`},
		{"flag name as attribute", "nats_listen = \"0.0.0.0:4222\"\n", `"nats_listen" is not expected`},
		{"wrong type", "nats {\n  replicas = \"three\"\n}\n", "collector.hcl:2:"},
		{"bool as string", "print_alerts = \"yes\"\n", "collector.hcl:1:"},
		{"bad duration", "retention {\n  events = \"forever\"\n}\n", `collector.hcl:2:3: Invalid duration: retention.events = "forever"`},
		{"duration without unit", "attribution_grace = \"20\"\n", `collector.hcl:1:1: Invalid duration: attribution_grace = "20"`},
		{"retention too short", "retention {\n  alerts = \"1m\"\n}\n", `collector.hcl:2:3: Invalid duration: retention.alerts = "1m": it is at least 1h0m0s`},
		{"checkpoint too often", "checkpoint {\n  every = \"10ms\"\n}\n", `collector.hcl:2:3: Invalid duration: checkpoint.every = "10ms": it is at least 1s`},
		{"replicas out of range", "nats {\n  replicas = 0\n}\n", "collector.hcl:2:3: Invalid replicas: nats.replicas = 0"},
		{"block twice", "http {\n}\nhttp {\n}\n", "collector.hcl:3:1: Duplicate http block"},
		{"partitions out of range", "correlation {\n  partitions = -1\n}\n", "collector.hcl:2:3: Invalid partitions: correlation.partitions = -1"},
		{"lease too short", "correlation {\n  lease_ttl = \"100ms\"\n}\n", `collector.hcl:2:3: Invalid duration: correlation.lease_ttl = "100ms": it is at least 1s`},
		{"attribute twice", "data_dir = \"a\"\ndata_dir = \"b\"\n", "collector.hcl:2:1: Attribute redefined"},
		// The password stays out of the message.
		{"store of another database", "store = \"mysql://u:secret@h/db\"\n", `collector.hcl:1:1: Invalid store: store = "mysql://u:xxxxx@h/db": a store is a postgres:// URL or a SQLite file path, not mysql://`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("collector.hcl", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %+v, %v; want an error with %q", cfg, err, c.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "absent.hcl")); err == nil || !strings.Contains(err.Error(), "absent.hcl") {
		t.Errorf("absent file: %v", err)
	}
	// The file the package ships parses, and sets what collector.env used to.
	c, err := Load("../../packaging/etc/collector.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/vigil-collector" || c.RulesDir != "/etc/vigil/collector-rules" ||
		c.NATS.Listen != "127.0.0.1:4222" || c.HTTP.Listen != "127.0.0.1:8080" || !c.NATS.Auth || !c.HTTP.Console {
		t.Errorf("shipped collector.hcl: %+v", c)
	}
	src, _ := os.ReadFile("../../packaging/etc/collector.hcl")
	for _, attr := range Attributes {
		if name := attr[strings.LastIndex(attr, ".")+1:]; !strings.Contains(string(src), name+" ") {
			t.Errorf("the shipped collector.hcl does not document %s", attr)
		}
	}
}
