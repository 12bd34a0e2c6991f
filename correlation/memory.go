package correlation

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryStore is a Store in memory, for aaids replay and tests. It is safe
// for concurrent use and keeps the same conditions as DynamoDBStore; it
// never expires items (a replay is short). Like DynamoDB it keeps copies of
// the strings it is given, so a caller may reuse their memory (aaids replay
// builds batch after batch of activities in the same memory).
type MemoryStore struct {
	mu           sync.Mutex
	claims       map[Key]memClaim
	heads        map[Key]Head
	items        map[Key]*memItem
	suppressions map[string]Suppression
	// by is the claimant of the last claim that named one, shared by the
	// claims of a batch.
	by string
}

type memClaim struct {
	Claimed
	lease time.Time
}

type memItem struct {
	Item
	due       time.Time
	partition string
	seal      time.Time
	sealed    bool
	// once holds the Delta.Once of every applied delta.
	once map[string]bool
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		claims:       map[Key]memClaim{},
		heads:        map[Key]Head{},
		items:        map[Key]*memItem{},
		suppressions: map[string]Suppression{},
	}
}

// Claim implements Store.
func (m *MemoryStore) Claim(_ context.Context, key Key, state, by string, now time.Time, lease time.Duration, _ time.Time) (ClaimResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, exists := m.claims[key]
	if exists && (old.State != StatePending || !old.lease.Before(now)) && (by == "" || old.By != by) {
		o := old.Claimed
		return ClaimResult{Old: &o}, nil
	}
	if by != m.by {
		m.by = strings.Clone(by)
	}
	m.claims[own(key)] = memClaim{Claimed: Claimed{State: strings.Clone(state), By: m.by}, lease: now.Add(lease)}
	if exists {
		o := old.Claimed
		return ClaimResult{Won: true, Old: &o}, nil
	}
	return ClaimResult{Won: true}, nil
}

// Settle implements Store.
func (m *MemoryStore) Settle(_ context.Context, key Key, state string, marks Claimed, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	marks.State, marks.Window = strings.Clone(state), own(marks.Window)
	m.claims[own(key)] = memClaim{Claimed: marks}
	return nil
}

// Release implements Store.
func (m *MemoryStore) Release(_ context.Context, key Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.claims, key)
	return nil
}

// Head implements Store.
func (m *MemoryStore) Head(_ context.Context, key Key) (Head, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.heads[key]
	return h, ok, nil
}

// Open implements Store.
func (m *MemoryStore) Open(_ context.Context, key Key, h Head, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.heads[key]; ok && old.End.After(h.Start) {
		return false, nil
	}
	m.heads[own(key)] = h
	return true, nil
}

// Add implements Store.
func (m *MemoryStore) Add(_ context.Context, key Key, d Delta) (Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[key]
	if it == nil {
		it = &memItem{Item: Item{Nums: map[string]int64{}, Strs: map[string]string{}}}
		m.items[own(key)] = it
	}
	if it.sealed || !it.seal.IsZero() {
		return Item{}, ErrSealed
	}
	if d.Once != "" {
		if it.once[d.Once] {
			c := it.clone()
			c.Repeated = true
			return c, nil
		}
		if it.once == nil {
			it.once = map[string]bool{}
		}
		if len(it.once) < OnceLimit {
			it.once[strings.Clone(d.Once)] = true
		}
	}
	for k, v := range d.Add {
		it.Nums[strings.Clone(k)] += v
	}
	for k, v := range d.SetOnce {
		if _, ok := it.Strs[k]; !ok {
			it.Strs[strings.Clone(k)] = strings.Clone(v)
		}
	}
	for k, v := range d.Set {
		it.Strs[strings.Clone(k)] = strings.Clone(v)
	}
	if !d.Due.IsZero() {
		it.due, it.partition = d.Due, strings.Clone(d.DuePartition)
	}
	return it.clone(), nil
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, key Key) (Item, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[key]
	if it == nil {
		return Item{}, false, nil
	}
	return it.clone(), true, nil
}

// own returns a copy of k that shares no memory with the caller's.
func own(k Key) Key { return Key{PK: strings.Clone(k.PK), SK: strings.Clone(k.SK)} }

func (it *memItem) clone() Item {
	return Item{Nums: maps.Clone(it.Nums), Strs: maps.Clone(it.Strs)}
}

// Due implements Store.
func (m *MemoryStore) Due(_ context.Context, partition string, now time.Time) ([]Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []Key
	for k, it := range m.items {
		if it.partition == partition && !it.due.IsZero() && !it.due.After(now) {
			keys = append(keys, k)
		}
	}
	// Oldest first, as the due index's sort key orders them.
	slices.SortFunc(keys, func(a, b Key) int {
		if c := m.items[a].due.Compare(m.items[b].due); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.PK, b.PK), cmp.Compare(a.SK, b.SK))
	})
	return keys, nil
}

// Seal implements Store.
func (m *MemoryStore) Seal(_ context.Context, key Key, now time.Time, lease time.Duration) (Item, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[key]
	if it == nil || it.sealed || (!it.seal.IsZero() && !it.seal.Before(now)) {
		return Item{}, false, nil
	}
	it.seal = now.Add(lease)
	return it.clone(), true, nil
}

// Done implements Store.
func (m *MemoryStore) Done(_ context.Context, key Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if it := m.items[key]; it != nil {
		it.sealed, it.due, it.partition = true, time.Time{}, ""
	}
	return nil
}

// PutSuppression implements Store.
func (m *MemoryStore) PutSuppression(_ context.Context, s Suppression) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.ID, s.Principal, s.Detection, s.SourceIP, s.Account, s.Reason = strings.Clone(s.ID), strings.Clone(s.Principal),
		strings.Clone(s.Detection), strings.Clone(s.SourceIP), strings.Clone(s.Account), strings.Clone(s.Reason)
	m.suppressions[s.ID] = s
	return nil
}

// Suppressions implements Store.
func (m *MemoryStore) Suppressions(context.Context) ([]Suppression, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.suppressions))
	slices.SortFunc(out, func(a, b Suppression) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteSuppression implements Store.
func (m *MemoryStore) DeleteSuppression(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.suppressions[id]; !ok {
		return ErrNotFound
	}
	delete(m.suppressions, id)
	return nil
}
