package pbx

import (
	"net/http"

	"github.com/centralino/centralino/pbx/store"
)

// apiMessages is GET /api/messages?tenant=T&limit=N: the messages
// operators took, newest first ("" tenant: all tenants).
func (s *Server) apiMessages(w http.ResponseWriter, r *http.Request) {
	limit, ok := queryLimit(w, r)
	if !ok {
		return
	}
	list, err := s.store.Messages(r.URL.Query().Get("tenant"), limit)
	if err != nil {
		s.log.Error("list messages", "error", err)
		http.Error(w, "cannot read messages", http.StatusInternalServerError)
		return
	}
	if list == nil {
		list = []store.Message{}
	}
	writeJSON(w, list)
}
