-- Chain entries of op batch (chain_batch.go) chain the rows a batch
-- inserted into one table with one entry: rows lists each row's key,
-- digest and link (NULL for entries of one row). Prune reads the chain
-- in one pass instead of looking up each row's entries, so the index that
-- served those lookups costs every write and serves nothing.
ALTER TABLE chain ADD COLUMN rows BLOB;
DROP INDEX IF EXISTS chain_row;

-- Whose a boot id is (BootOwner), looked up at each boot's first event.
CREATE INDEX IF NOT EXISTS seqs_boot ON seqs(boot_id);
