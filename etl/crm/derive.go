package crm

import (
	"context"
	"fmt"

	"github.com/carelens/carelens/internal/store"
)

// deriveSQL brings the derived CRM state up to date with everything loaded
// so far, whatever the order records arrived in: each message takes the
// earliest time of each state from its events, its status is the latest
// state it reached, and each contact's consent per channel is decided by the
// record with the latest effective time (a consent record beats the contact
// record's flags at the same time, and an opt-out beats an opt-in). Every
// statement is idempotent.
var deriveSQL = []string{
	`UPDATE outreach_messages m SET
		delivered_at = least(m.delivered_at, e.delivered_at),
		opened_at = least(m.opened_at, e.opened_at),
		replied_at = least(m.replied_at, e.replied_at),
		failed_at = least(m.failed_at, e.failed_at)
	FROM (SELECT message_key,
			min(occurred_at) FILTER (WHERE event = 'delivered') AS delivered_at,
			min(occurred_at) FILTER (WHERE event = 'opened') AS opened_at,
			min(occurred_at) FILTER (WHERE event = 'replied') AS replied_at,
			min(occurred_at) FILTER (WHERE event = 'failed') AS failed_at
		FROM message_events GROUP BY message_key) e
	WHERE m.message_key = e.message_key`,
	`UPDATE outreach_messages SET status = CASE
		WHEN failed_at IS NOT NULL THEN 'failed'
		WHEN replied_at IS NOT NULL THEN 'replied'
		WHEN opened_at IS NOT NULL THEN 'opened'
		WHEN delivered_at IS NOT NULL THEN 'delivered'
		ELSE 'sent' END`,
	`DELETE FROM channel_consent`,
	`INSERT INTO channel_consent
	WITH ch(channel) AS (VALUES ('sms'), ('email'), ('voice'), ('portal')),
	candidates AS (
		SELECT c.patient_id, ch.channel, c.status = 'opt_out' AS opted_out, c.effective_at, 'consent' AS source, 1 AS rank
		FROM consents c JOIN ch ON c.channel = ch.channel OR c.channel = 'all'
		UNION ALL
		SELECT k.patient_id, ch.channel,
			CASE ch.channel WHEN 'sms' THEN k.sms_opt_out WHEN 'email' THEN k.email_opt_out
				WHEN 'voice' THEN k.voice_opt_out ELSE false END,
			coalesce(k.updated_at, k.created_at), 'contact', 0
		FROM contacts k CROSS JOIN ch)
	SELECT patient_id, channel, opted_out, effective_at, source FROM candidates
	QUALIFY row_number() OVER (PARTITION BY patient_id, channel
		ORDER BY effective_at DESC NULLS LAST, rank DESC, opted_out DESC) = 1`,
}

// Derive updates the derived CRM state in tx; loads call it after their
// CRM entities.
func Derive(ctx context.Context, tx *store.Tx) error {
	for i, q := range deriveSQL {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("derive CRM state (step %d): %w", i+1, err)
		}
	}
	return nil
}
