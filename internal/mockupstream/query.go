package mockupstream

import (
	"cmp"
	"fmt"
	"net/http"
)

// queryRequest is a RAG search request; the query may be sent as "query",
// "question" or "q".
type queryRequest struct {
	Query    string `json:"query"`
	Question string `json:"question"`
	Q        string `json:"q"`
}

// document is one search hit.
type document struct {
	ID    string  `json:"id"`
	Text  string  `json:"text"`
	Score float64 `json:"score"`
}

// queryResponse is the answer of POST /query.
type queryResponse struct {
	Answer     string     `json:"answer"`
	Documents  []document `json:"documents"`
	RequestSeq int64      `json:"request_seq"`
}

// scores are the scores of the three documents every search finds.
var scores = []float64{0.9, 0.8, 0.7}

// query answers POST /query with an answer and three documents derived
// from the query, or no documents with the empty-results knob.
func (s *Server) query(ex *exchange) {
	var req queryRequest
	if !ex.decode(&req) {
		return
	}
	q := cmp.Or(req.Query, req.Question, req.Q)
	if q == "" {
		ex.invalid("query is required")
		return
	}
	docs := []document{}
	if !ex.k.empty {
		for i, score := range scores {
			docs = append(docs, document{
				ID:    fmt.Sprintf("doc-%d", i+1),
				Text:  fmt.Sprintf("Mock document %d about: %s", i+1, q),
				Score: score,
			})
		}
	}
	ex.json(http.StatusOK, queryResponse{
		Answer:     answerPrefix + q,
		Documents:  docs,
		RequestSeq: s.next(),
	})
}
