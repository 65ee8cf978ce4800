package caddymodule

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWriteBodyTooLarge checks the one 413 every handler sends: OpenAI's
// error shape, with the limit in the message.
func TestWriteBodyTooLarge(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := writeBodyTooLarge(rec, 1024); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	var body struct {
		Error struct{ Message, Type, Code string } `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	e := body.Error
	if e.Type != "invalid_request_error" || e.Code != "request_too_large" ||
		e.Message != "request body exceeds the limit of 1024 bytes" {
		t.Fatalf("error %+v", e)
	}
}
