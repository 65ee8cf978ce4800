package cache

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func newTestStore(t *testing.T, cfg StoreConfig) *Store {
	t.Helper()
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreGetSetTTL(t *testing.T) {
	s := newTestStore(t, StoreConfig{TTL: time.Minute, MaxBytes: 1 << 20, MaxEntryBytes: 4096})
	now := time.Now()
	k := Key(KeyParts{Method: "POST", Path: "/x"})
	if _, _, ok := s.Get(k, now); ok {
		t.Fatal("hit on an empty store")
	}
	e := &Entry{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"ok":true}`), StoredAt: now}
	if err := s.Set(k, e); err != nil {
		t.Fatal(err)
	}
	got, fresh, ok := s.Get(k, now.Add(30*time.Second))
	if !ok || !fresh || string(got.Body) != `{"ok":true}` {
		t.Fatalf("Get = %v, %v, %v", got, fresh, ok)
	}
	if _, _, ok := s.Get(k, now.Add(time.Minute)); ok {
		t.Error("entry served at its TTL")
	}
	if n, err := s.Purge(); err != nil || n != 1 {
		t.Errorf("Purge = %d, %v", n, err)
	}
	if _, _, ok := s.Get(k, now); ok {
		t.Error("hit after purge")
	}
}

func TestStoreRejectsLargeEntries(t *testing.T) {
	s := newTestStore(t, StoreConfig{TTL: time.Minute, MaxBytes: 1 << 20, MaxEntryBytes: 100})
	err := s.Set("k", &Entry{Status: 200, Body: make([]byte, 200), StoredAt: time.Now()})
	if err != ErrEntryTooLarge {
		t.Fatalf("Set = %v, want ErrEntryTooLarge", err)
	}
}

func TestStoreStaysWithinMaxBytes(t *testing.T) {
	const maxBytes = 2 << 20
	s := newTestStore(t, StoreConfig{TTL: time.Hour, MaxBytes: maxBytes, MaxEntryBytes: 8192})
	body := make([]byte, 1000)
	for i := range 20000 { // ~20 MB written into 2 MiB
		k := Key(KeyParts{Path: fmt.Sprint(i)})
		if err := s.Set(k, &Entry{Status: 200, Body: body, StoredAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if s.Bytes() > maxBytes {
		t.Errorf("store holds %d bytes, bound is %d", s.Bytes(), maxBytes)
	}
	_, evicted := s.Evictions()
	if evicted == 0 || s.Len() >= 20000 {
		t.Errorf("no eviction: len %d, evicted %d", s.Len(), evicted)
	}
	// the newest entry is still there
	if _, _, ok := s.Get(Key(KeyParts{Path: "19999"}), time.Now()); !ok {
		t.Error("newest entry was evicted")
	}
}

func TestNewStoreRejectsBadConfig(t *testing.T) {
	for _, cfg := range []StoreConfig{
		{TTL: 0, MaxBytes: 1 << 20, MaxEntryBytes: 10},
		{TTL: time.Second, MaxBytes: 1000, MaxEntryBytes: 10},
		{TTL: time.Second, MaxBytes: 1 << 20, MaxEntryBytes: 1 << 20},
	} {
		if s, err := NewStore(cfg); err == nil {
			s.Close()
			t.Errorf("NewStore(%+v) accepted", cfg)
		}
	}
}

func TestStoreKeepsStaleEntries(t *testing.T) {
	s := newTestStore(t, StoreConfig{TTL: time.Minute, StaleFor: time.Hour, MaxBytes: 1 << 20, MaxEntryBytes: 4096})
	now := time.Now()
	s.Set("k", &Entry{Status: 200, Body: []byte("x"), StoredAt: now})
	if _, fresh, ok := s.Get("k", now.Add(30*time.Minute)); !ok || fresh {
		t.Errorf("within the stale window: fresh %v ok %v, want stale", fresh, ok)
	}
	if _, _, ok := s.Get("k", now.Add(61*time.Minute)); ok {
		t.Error("served past TTL + StaleFor")
	}
}

func TestStorePurgeTenant(t *testing.T) {
	s := newTestStore(t, StoreConfig{TTL: time.Minute, MaxBytes: 1 << 20, MaxEntryBytes: 4096})
	acme, other := TenantID(AppendPlaceholderScope(nil, "acme")), TenantID(AppendPlaceholderScope(nil, "other"))
	for i, tenant := range []string{acme, other, acme, ""} {
		s.Set(Key(KeyParts{Path: string(rune('a' + i))}), &Entry{Status: 200, StoredAt: time.Now(), Tenant: tenant})
	}
	if n := s.PurgeTenant(acme); n != 2 {
		t.Fatalf("purged %d entries of acme, want 2", n)
	}
	for i, want := range []bool{false, true, false, true} {
		if _, _, ok := s.Get(Key(KeyParts{Path: string(rune('a' + i))}), time.Now()); ok != want {
			t.Errorf("entry %d: present %v, want %v", i, ok, want)
		}
	}
	if n := s.PurgeTenant(""); n != 0 {
		t.Errorf("the empty tenant purged %d entries", n)
	}
}
