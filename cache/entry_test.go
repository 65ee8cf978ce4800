package cache

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestEntryRoundTrip(t *testing.T) {
	e := &Entry{
		Status:   201,
		Header:   http.Header{"Content-Type": {"text/event-stream"}, "X-Multi": {"a", "b"}},
		Body:     []byte("data: 1\n\ndata: [DONE]\n\n"),
		Stream:   true,
		StoredAt: time.Unix(1700000000, 123456789),
		Vary:     http.Header{"Accept": {"a", "b"}, "X-None": {}},
		Tenant:   TenantID([]byte("pacme")),
	}
	raw, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Entry
	if err := got.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	if got.Status != e.Status || got.Stream != e.Stream || !got.StoredAt.Equal(e.StoredAt) ||
		string(got.Body) != string(e.Body) || !reflect.DeepEqual(got.Header, e.Header) || !reflect.DeepEqual(got.Vary, e.Vary) || got.Tenant != e.Tenant {
		t.Errorf("round trip = %+v, want %+v", got, e)
	}
	if tenant, ok := EntryTenant(raw); !ok || tenant != e.Tenant {
		t.Errorf("EntryTenant = %q %v", tenant, ok)
	}
	// An entry written by an earlier version (before Vary, before the
	// tenant) or a later one is not misread.
	for _, v := range []byte{1, 2, 4} {
		raw[0] = v
		if err := got.UnmarshalBinary(raw); err == nil {
			t.Errorf("a version %d entry decoded", v)
		}
		if _, ok := EntryTenant(raw); ok {
			t.Errorf("EntryTenant read a version %d entry", v)
		}
	}
}

func FuzzEntryUnmarshal(f *testing.F) {
	raw, _ := (&Entry{Status: 200, Header: http.Header{"A": {"b"}}, Body: []byte("x")}).MarshalBinary()
	f.Add(raw)
	f.Add([]byte{3, 0, 0, 200})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Entry
		if e.UnmarshalBinary(data) != nil {
			return
		}
		again, _ := e.MarshalBinary()
		var e2 Entry
		if err := e2.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if e2.Status != e.Status || string(e2.Body) != string(e.Body) || !reflect.DeepEqual(e2.Header, e.Header) || len(e2.Vary) != len(e.Vary) || e2.Tenant != e.Tenant {
			t.Fatalf("re-encoding changed the entry")
		}
	})
}
