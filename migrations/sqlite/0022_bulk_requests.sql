-- A bulk operation run in the background keeps what it was asked to do (action, options and
-- the resolved key ids, as JSON) until its job has run it; synchronous ones leave it NULL.
ALTER TABLE bulk_operations ADD COLUMN request TEXT;
