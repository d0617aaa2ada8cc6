package auth

import (
	"context"
	"fmt"
	"strings"
)

// Role is what a principal is allowed to do, as a named set of permissions.
type Role string

// The roles. Every role reads metric aggregates (always through disclosure
// control); only admin is exempt from the repeated-query guard, whose
// refusals it sees as audit records instead.
const (
	// RoleAdmin operates the service: everything analysts may do, without
	// the repeated-query guard (its overrides are audited), and patient-level
	// subject lists (each export audited).
	RoleAdmin Role = "admin"
	// RoleAnalyst reads metric aggregates and dashboards under the
	// repeated-query guard. It is the role of Anonymous in open mode.
	RoleAnalyst Role = "analyst"
	// RoleCRM is the CRM's service account: it reads metric aggregates
	// under the repeated-query guard (patient-level endpoints for it will
	// be separate permissions).
	RoleCRM Role = "crm"
)

// Permission is one thing a role may do. New endpoints add a permission and
// grant it to the roles that need it in grants.
type Permission string

const (
	// ReadAggregates reads metric definitions, metric results (JSON, CSV)
	// and dashboard pages, all after disclosure control.
	ReadAggregates Permission = "read_aggregates"
	// BypassQueryGuard receives results the repeated-query guard would
	// refuse; each such result is audited.
	BypassQueryGuard Permission = "bypass_query_guard"
	// ExportSubjects reads patient-level lists of surrogate ids: the
	// subject lists of a FHIR MeasureReport. Each export is audited.
	ExportSubjects Permission = "export_subjects"
)

// grants lists each role's permissions. A role absent here has none.
var grants = map[Role][]Permission{
	RoleAdmin:   {ReadAggregates, BypassQueryGuard, ExportSubjects},
	RoleAnalyst: {ReadAggregates},
	RoleCRM:     {ReadAggregates},
}

// Roles returns every role, in a fixed order.
func Roles() []Role { return []Role{RoleAdmin, RoleAnalyst, RoleCRM} }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	_, ok := grants[r]
	return ok
}

// Can reports whether r grants p. An unknown role grants nothing.
func (r Role) Can(p Permission) bool {
	for _, g := range grants[r] {
		if g == p {
			return true
		}
	}
	return false
}

// ParseRole returns the role named s, or an error listing the roles.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("unknown role %q (want %s)", s, roleList())
	}
	return r, nil
}

func roleList() string {
	var names []string
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// Principal is who a request acts for: the name of the key's holder (the
// actor in audit records and the owner of a query history) and its role.
type Principal struct {
	Name string
	Role Role
}

// Can reports whether p's role grants perm.
func (p Principal) Can(perm Permission) bool { return p.Role.Can(perm) }

// AnonymousName is the name of the principal of open mode; no key may take it.
const AnonymousName = "anonymous"

// Anonymous is every request's principal when no key file is configured
// (open mode, as in the demo): an analyst, so open mode never grants admin
// rights and the repeated-query guard still applies (to one history shared
// by every client).
var Anonymous = Principal{Name: AnonymousName, Role: RoleAnalyst}

type principalKey struct{}

// NewContext returns a copy of ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal NewContext put in ctx; ok is false when
// there is none (the request was not authenticated).
func FromContext(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}
