package bundle

// Bucket is the JetStream key-value bucket the collector serves bundles in.
const Bucket = "VIGIL_RULES"

// Key is the bucket key of site's bundle (AllSites: every site's).
func Key(site string) string {
	if site == AllSites {
		return "all"
	}
	return "site." + site
}

// Subject is the NATS subject a key's values are put on; a plain
// subscription to it sees every new bundle of the key.
func Subject(key string) string { return "$KV." + Bucket + "." + key }

// GetSubject is where a direct get of a key's newest value is asked for,
// so an agent may read its keys without being allowed to read the stream.
func GetSubject(key string) string { return "$JS.API.DIRECT.GET.KV_" + Bucket + "." + Subject(key) }
