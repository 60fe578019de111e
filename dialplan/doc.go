// Package dialplan decides, without I/O or a clock of its own, what happens to a tenant's incoming call and explains why.
package dialplan
