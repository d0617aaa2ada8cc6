-- 0004_drop_payer_name: coverage.payer_name came from Coverage.payor.display,
-- which names the patient when the payor is the patient (self-pay) or a
-- relative. The payer's organisation id stays; its type is payer_type.
ALTER TABLE coverage DROP COLUMN payer_name;
