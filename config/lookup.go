package config

import (
	"slices"
)

// index maps names to positions in a Config's lists. Positions, not
// pointers, so that copies of the Config (Redacted) can share it.
type index struct {
	tenants           map[string]int // tenant id
	trunks            map[string]int // trunk name
	extensions        map[string]int // extension number
	tenantOfExtension map[string]int // extension number → tenant
	tenantOfNumber    map[string]int // E.164 number → tenant
	operators         map[string]int // operator username
	outbound          int            // first trunk with a host; -1 if none
}

// The lookups run on every call and REGISTER: they use the index built by
// validation, and scan only for a Config built by hand (in tests).

// Tenant returns the tenant with the given id, or nil.
func (c *Config) Tenant(id string) *Tenant {
	if c.idx != nil {
		return at(c.Tenants, c.idx.tenants, id)
	}
	return find(c.Tenants, func(t *Tenant) bool { return t.ID == id })
}

// Trunk returns the trunk with the given name, or nil.
func (c *Config) Trunk(name string) *Trunk {
	if c.idx != nil {
		return at(c.Trunks, c.idx.trunks, name)
	}
	return find(c.Trunks, func(t *Trunk) bool { return t.Name == name })
}

// Extension returns the extension with the given number, or nil.
func (c *Config) Extension(number string) *Extension {
	if c.idx != nil {
		return at(c.Extensions, c.idx.extensions, number)
	}
	return find(c.Extensions, func(e *Extension) bool { return e.Number == number })
}

// Operator returns the operator with the given username, or nil.
func (c *Config) Operator(username string) *Operator {
	if c.idx != nil {
		return at(c.Operators, c.idx.operators, username)
	}
	return find(c.Operators, func(o *Operator) bool { return o.Username == username })
}

// TenantOfExtension returns the tenant that lists the extension, or nil.
func (c *Config) TenantOfExtension(number string) *Tenant {
	if c.idx != nil {
		return at(c.Tenants, c.idx.tenantOfExtension, number)
	}
	return find(c.Tenants, func(t *Tenant) bool { return slices.Contains(t.Extensions, number) })
}

// TenantByNumber returns the tenant that owns the E.164 number, or nil.
func (c *Config) TenantByNumber(e164 string) *Tenant {
	if c.idx != nil {
		return at(c.Tenants, c.idx.tenantOfNumber, e164)
	}
	return find(c.Tenants, func(t *Tenant) bool { return slices.Contains(t.Numbers, e164) })
}

// OutboundTrunk returns the trunk for t's outbound calls: t.OutboundTrunk,
// else the first trunk with a Host; nil if there is none. t may be nil.
func (c *Config) OutboundTrunk(t *Tenant) *Trunk {
	if t != nil && t.OutboundTrunk != "" {
		return c.Trunk(t.OutboundTrunk)
	}
	if c.idx != nil {
		if c.idx.outbound < 0 || c.idx.outbound >= len(c.Trunks) {
			return nil
		}
		return &c.Trunks[c.idx.outbound]
	}
	return find(c.Trunks, func(tr *Trunk) bool { return tr.Host != "" })
}

func at[T any](list []T, idx map[string]int, key string) *T {
	if i, ok := idx[key]; ok && i < len(list) {
		return &list[i]
	}
	return nil
}

func find[T any](list []T, match func(*T) bool) *T {
	for i := range list {
		if match(&list[i]) {
			return &list[i]
		}
	}
	return nil
}

// redactedSecret replaces secrets in Redacted copies.
const redactedSecret = "***"

// Redacted returns a deep copy of c with every Password, HA1, HA1SHA256,
// PasswordHash and Token that is set replaced by "***", for printing and
// logging.
func (c *Config) Redacted() *Config {
	r := *c
	r.SIP.AuthAlgorithms = slices.Clone(c.SIP.AuthAlgorithms)
	r.SIP.OutboundDeny = slices.Clone(c.SIP.OutboundDeny)
	r.HTTP.Token = redact(c.HTTP.Token)
	r.HTTP.TrustedProxies = slices.Clone(c.HTTP.TrustedProxies)
	r.HTTP.ProxyPrefixes = slices.Clone(c.HTTP.ProxyPrefixes)
	r.Console.WebRTCAdvertise = slices.Clone(c.Console.WebRTCAdvertise)
	r.Operators = slices.Clone(c.Operators)
	for i := range r.Operators {
		o := &r.Operators[i]
		o.PasswordHash = redact(o.PasswordHash)
		o.Tenants = slices.Clone(o.Tenants)
	}
	r.Trunks = slices.Clone(c.Trunks)
	for i := range r.Trunks {
		t := &r.Trunks[i]
		t.Password = redact(t.Password)
		t.Allow = slices.Clone(t.Allow)
		t.CalledNumber = slices.Clone(t.CalledNumber)
		t.CopyHeaders = slices.Clone(t.CopyHeaders)
		t.AllowPrefixes = slices.Clone(t.AllowPrefixes)
	}
	r.Extensions = slices.Clone(c.Extensions)
	for i := range r.Extensions {
		e := &r.Extensions[i]
		e.Password = redact(e.Password)
		e.HA1 = redact(e.HA1)
		e.HA1SHA256 = redact(e.HA1SHA256)
		e.AuthAlgorithms = slices.Clone(e.AuthAlgorithms)
		e.AllowOutbound = slices.Clone(e.AllowOutbound)
	}
	r.Tenants = slices.Clone(c.Tenants)
	for i := range r.Tenants {
		t := &r.Tenants[i]
		t.Numbers = slices.Clone(t.Numbers)
		t.Extensions = slices.Clone(t.Extensions)
		t.Contacts = slices.Clone(t.Contacts)
	}
	return &r
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redactedSecret
}
