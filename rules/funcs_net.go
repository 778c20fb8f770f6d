package rules

import (
	"fmt"
	"net/netip"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fnCIDR compiles cidrmatch; a bare address stands for itself alone.
func fnCIDR(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	if a[0].typ != tStr {
		return nil, argErr(call, 0, "a string", a[0])
	}
	if !a[1].isConst || (a[1].typ != tStr && a[1].typ != tList) {
		return nil, constArgErr(call, 1, "CIDR or list of CIDRs")
	}
	list := a[1].cv.l
	if a[1].typ == tStr {
		list = []string{a[1].cv.s}
	}
	var prefixes []netip.Prefix
	for _, c := range list {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			if ip, err2 := netip.ParseAddr(c); err2 == nil {
				p = netip.PrefixFrom(ip, ip.BitLen())
			} else {
				return nil, errDiag(call.Args[1].Range(), "Invalid CIDR", fmt.Sprintf("%q is not a CIDR prefix like 10.0.0.0/8 or fd00::/8.", c))
			}
		}
		prefixes = append(prefixes, p.Masked())
	}
	s := a[0].s
	return &node{typ: tBool, b: func(e *env) bool {
		ip, err := netip.ParseAddr(s(e))
		if err != nil {
			return false
		}
		ip = ip.Unmap()
		for _, p := range prefixes {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}}, nil
}
