package crm

import "github.com/carelens/carelens/etl/crm/contract"

// The contract's shared types, defined in etl/crm/contract so that sources
// build without the warehouse.
type (
	Record      = contract.Record
	Fields      = contract.Fields
	FieldError  = contract.FieldError
	SourceError = contract.SourceError
)
