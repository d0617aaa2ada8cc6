// Package crm reads a CRM's outreach export (docs/crm-export.md): contacts,
// campaigns, outreach messages and survey responses as CSV, and maps them to
// de-identified warehouse rows linked to EHR patients through the vault.
package crm
