package config

import (
	"slices"
)

// CustomerIdentifier is the identifier the default rule pack counts
// distinct customers by (customer_identifier in rules/packs/common.hcl).
const CustomerIdentifier = "customer_id"

// defaultCustomerColumns are customer ids and emails under their common
// names: bare names match the column in any table, table.column only that
// table's. An id and an email of one customer hash differently, so a
// customer looked up both ways counts twice: an overcount, never a miss.
var defaultCustomerColumns = []string{
	"customer_id", "customerid", "cust_id", "customer_no", "customer_number", "client_id", "shopper_id",
	"account_id", "user_id", "member_id",
	"customers.id", "customer.id", "shoppers.id", "clients.id", "accounts.id", "users.id", "members.id",
	"email", "email_address", "emailaddress", "e_mail", "customer_email", "user_email", "contact_email",
}

// DefaultIdentifiers is db.identifiers when agent.hcl leaves it out.
func DefaultIdentifiers() map[string][]string {
	return map[string][]string{CustomerIdentifier: slices.Clone(defaultCustomerColumns)}
}

// IdentifierNames lists the names the agent reports hashes under in
// db.identifiers, sorted: the groups of db.identifiers and the columns of
// db.identifier_columns, each under its own name.
func IdentifierNames(c *Config) []string {
	var out []string
	if c.DB != nil {
		for n, cols := range c.DB.Identifiers {
			if len(cols) > 0 {
				out = append(out, n)
			}
		}
		out = append(out, c.DB.IdentifierColumns...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
