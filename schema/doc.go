// Package schema defines the common event every log format is normalized into,
// the alert the engine produces, and the field names (with their CIM/ECS
// aliases) that rules may refer to.
//
// It is the leaf of the dependency graph: it imports only the standard
// library, and every other package speaks it.
package schema
