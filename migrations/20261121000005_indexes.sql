-- Correlation starts from a case's own identifiers: find them by case.
CREATE INDEX person_identifiers_case_idx ON person_identifiers (case_id);
