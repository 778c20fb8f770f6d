package rules

import (
	"github.com/hashicorp/hcl/v2"
)

// fileSchema lists the blocks a rule file may hold; the schemas below are
// their bodies, kept together so the whole syntax reads in one place.
var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "rule", LabelNames: []string{"name"}},
	{Type: "threshold", LabelNames: []string{"name"}},
	{Type: "sequence", LabelNames: []string{"name"}},
	{Type: "exception", LabelNames: []string{"name"}},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "values"},
	{Type: "list", LabelNames: []string{"name"}},
	{Type: "condition", LabelNames: []string{"name"}},
	{Type: "test", LabelNames: []string{"name"}},
}}

// commonAttrs are the attributes every rule, threshold and sequence takes.
var commonAttrs = []hcl.AttributeSchema{
	{Name: "scope"}, {Name: "severity", Required: true}, {Name: "description"}, {Name: "tags"}, {Name: "summary"},
}

var (
	ruleSchema = &hcl.BodySchema{Attributes: append([]hcl.AttributeSchema{
		{Name: "when", Required: true}, {Name: "by"}}, commonAttrs...)}
	thresholdSchema = &hcl.BodySchema{Attributes: append([]hcl.AttributeSchema{
		{Name: "when", Required: true}, {Name: "by"}, {Name: "window", Required: true}, {Name: "limit", Required: true},
		{Name: "count"}, {Name: "sum"}, {Name: "distinct"}, {Name: "baseline"}, {Name: "factor"}, {Name: "min_history"}, {Name: "cooldown"},
		{Name: "peers"}, {Name: "min_peers"},
	}, commonAttrs...)}
	sequenceSchema = &hcl.BodySchema{
		Attributes: append([]hcl.AttributeSchema{{Name: "by", Required: true}, {Name: "window", Required: true}}, commonAttrs...),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "step", LabelNames: []string{"name"}}},
	}
	stepSchema      = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "when", Required: true}, {Name: "by"}, {Name: "sum"}, {Name: "limit"}, {Name: "per"}}}
	exceptionSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "rules", Required: true}, {Name: "when", Required: true}, {Name: "reason", Required: true}}}
	variableSchema  = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "default", Required: true}, {Name: "description"}}}
	listSchema      = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "items", Required: true}, {Name: "description"}}}
	conditionSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "when", Required: true}, {Name: "description"}}}
	testSchema      = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "events", Required: true}, {Name: "defaults"}, {Name: "start"}, {Name: "vars"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "expect", LabelNames: []string{"rule"}}},
	}
	expectSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "count"}, {Name: "value"}, {Name: "group"}, {Name: "severity"}, {Name: "summary"}}}
)
