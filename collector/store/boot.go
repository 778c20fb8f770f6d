package store

import (
	"database/sql"
	"errors"
	"fmt"
)

// sqlBootOwner finds another agent whose events used a boot id: event ids
// are made of the boot id and seq, so an agent claiming another's boot id
// would have its events taken for that agent's, and theirs dropped as
// duplicates.
const sqlBootOwner = `SELECT agent_id FROM seqs WHERE boot_id = ? AND agent_id != ? LIMIT 1`

// BootOwner returns the agent other than agentID whose numbered events
// already used bootID, stored or in this batch; "" when there is none.
func (t *Tx) BootOwner(agentID, bootID string) (string, error) {
	k := seqKey{agentID, bootID}
	if owner, ok := t.boots[k]; ok {
		return owner, nil
	}
	for other := range t.seqs {
		if other.bootID == bootID && other.agentID != agentID {
			t.boots[k] = other.agentID
			return other.agentID, nil
		}
	}
	var owner string
	err := t.stmt(t.s.bootOwner).QueryRowContext(t.ctx, bootID, agentID).Scan(&owner)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("checking whose boot %s is: %w", bootID, err)
	}
	t.boots[k] = owner
	return owner, nil
}
