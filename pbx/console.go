package pbx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/centralino/centralino/pbx/console"
	"github.com/centralino/centralino/pbx/webauth"
)

// The console's WebSocket protocol; docs/console-protocol.md is the
// contract with the page.

type helloOperator struct {
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Tenants  []string `json:"tenants"`
	Language string   `json:"language,omitempty"`
}

type msgHello struct {
	Type     string        `json:"type"`
	Now      time.Time     `json:"now"` // for the page to correct its clock's skew
	Operator helloOperator `json:"operator"`
	Status   string        `json:"status"`
	Reason   string        `json:"reason,omitempty"`
	Until    time.Time     `json:"until,omitzero"`
	Queues   []queueInfo   `json:"queues"`
	Offers   []msgOffer    `json:"offers"`
	Call     *msgCall      `json:"call"`
}

type msgStatus struct {
	Type   string    `json:"type"`
	Status string    `json:"status"`
	Reason string    `json:"reason,omitempty"`
	Until  time.Time `json:"until,omitzero"`
}

type queueInfo struct {
	Tenant  string        `json:"tenant"`
	Name    string        `json:"name"`
	Waiting []waitingInfo `json:"waiting"`
}

type waitingInfo struct {
	Call       string    `json:"call"`
	Caller     string    `json:"caller"`
	CallerName string    `json:"caller_name,omitempty"`
	Since      time.Time `json:"since"`
}

type msgQueues struct {
	Type   string      `json:"type"`
	Queues []queueInfo `json:"queues"`
}

type msgOffer struct {
	Type    string    `json:"type"`
	Call    string    `json:"call"`
	Pop     screenPop `json:"pop"`
	Expires time.Time `json:"expires"`
}

type msgOfferGone struct {
	Type   string `json:"type"`
	Call   string `json:"call"`
	Reason string `json:"reason"`
}

type msgAnswered struct {
	Type string `json:"type"`
	Call string `json:"call"`
	SDP  string `json:"sdp"`
}

type msgCall struct {
	Type   string     `json:"type"`
	Call   string     `json:"call"`
	State  string     `json:"state"`
	Since  time.Time  `json:"since,omitzero"` // when the operator answered
	Reason string     `json:"reason,omitempty"`
	Person string     `json:"person,omitempty"`
	Pop    *screenPop `json:"pop,omitempty"`
}

type msgError struct {
	Type  string `json:"type"`
	Error string `json:"error"`
	Ref   string `json:"ref,omitempty"`
	Call  string `json:"call,omitempty"`
}

// inbound is any message from the page; which fields matter depends on
// Type.
type inbound struct {
	Type   string `json:"type"`
	Status string `json:"status"`
	Call   string `json:"call"`
	SDP    string `json:"sdp"`
	On     *bool  `json:"on"`
	Mode   string `json:"mode"`
	Person string `json:"person"`
}

const (
	wsReadLimit = 64 << 10
	// wsSendQueue bounds what waits for a slow page; a page that falls this
	// far behind is disconnected (it reconnects and gets a fresh hello).
	wsSendQueue = 64
	wsWriteWait = 10 * time.Second
)

// consoleConn is one open console page.
type consoleConn struct {
	ws       *websocket.Conn
	session  string
	out      chan []byte
	done     chan struct{}
	doneOnce sync.Once
	reason   string
}

func (cc *consoleConn) send(b []byte) {
	select {
	case cc.out <- b:
	case <-cc.done:
	default:
		cc.close("too slow")
	}
}

func (cc *consoleConn) close(reason string) {
	cc.doneOnce.Do(func() {
		cc.reason = reason
		close(cc.done)
	})
}

// consoleHandler serves the page, the login API and the WebSocket.
func (s *Server) consoleHandler(mux *http.ServeMux) {
	s.web.Routes(mux)
	mux.Handle("GET /console/", console.Handler())
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
	})
	mux.Handle("GET /console/ws", s.web.Require(http.HandlerFunc(s.consoleWS)))
	mux.Handle("POST /console/api/messages", s.web.Require(http.HandlerFunc(s.consoleSaveMessage)))
	mux.Handle("GET /console/api/recent", s.web.Require(http.HandlerFunc(s.consoleRecent)))
}

func (s *Server) consoleWS(w http.ResponseWriter, r *http.Request) {
	sess, _ := webauth.FromContext(r.Context())
	// Accept checks that Origin matches Host: another site's page cannot
	// drive an operator's console with their cookie.
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.log.Info("console websocket refused", "operator", sess.Username, "error", err)
		return
	}
	ws.SetReadLimit(wsReadLimit)
	cc := &consoleConn{ws: ws, session: sess.ID, out: make(chan []byte, wsSendQueue), done: make(chan struct{})}
	if !s.desk.connect(sess.Username, cc) {
		ws.Close(websocket.StatusPolicyViolation, "not an operator, or too many consoles open")
		return
	}
	// A logout between the session check and connect would have missed
	// this connection: check again now that the desk knows it.
	if _, ok := s.web.Touch(sess.ID); !ok {
		s.desk.disconnect(sess.Username, cc)
		ws.Close(websocket.StatusPolicyViolation, "session ended")
		return
	}
	log := s.log.With("operator", sess.Username)
	log.Info("console connected")
	ctx, cancel := context.WithCancel(r.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.consoleWriter(ctx, cc)
	}()
	s.consoleReader(ctx, cc, sess.Username, log)
	cc.close("closed")
	cancel()
	wg.Wait()
	s.desk.disconnect(sess.Username, cc)
	ws.Close(websocket.StatusNormalClosure, cc.reason)
	log.Info("console disconnected", "reason", cc.reason)
}

// consoleKeepalive is how often an open console pings the page (a
// half-open TCP connection shows within a minute) and keeps its login
// alive: an operator waiting for calls makes no HTTP requests.
const consoleKeepalive = 30 * time.Second

func (s *Server) consoleWriter(ctx context.Context, cc *consoleConn) {
	keepalive := time.NewTicker(consoleKeepalive)
	defer keepalive.Stop()
	for {
		select {
		case <-keepalive.C:
			if _, ok := s.web.Touch(cc.session); !ok {
				cc.close("logged out")
				cc.ws.Close(websocket.StatusPolicyViolation, "session ended")
				return
			}
			pctx, cancel := context.WithTimeout(ctx, wsWriteWait)
			err := cc.ws.Ping(pctx)
			cancel()
			if err != nil {
				cc.close("no answer to ping")
				cc.ws.CloseNow()
				return
			}
		case <-cc.done:
			// Tell the reader (blocked in Read) to stop.
			cc.ws.Close(websocket.StatusNormalClosure, cc.reason)
			return
		case <-ctx.Done():
			return
		case b := <-cc.out:
			wctx, cancel := context.WithTimeout(ctx, wsWriteWait)
			err := cc.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				cc.close("write failed")
				return
			}
		}
	}
}

func (s *Server) consoleReader(ctx context.Context, cc *consoleConn, username string, log *slog.Logger) {
	for {
		typ, data, err := cc.ws.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) && ce.Code == websocket.StatusMessageTooBig {
				cc.close("message too big")
			}
			return
		}
		if typ != websocket.MessageText {
			cc.sendJSON(msgError{Type: "error", Error: "messages are JSON text"})
			continue
		}
		if _, ok := s.web.Touch(cc.session); !ok {
			cc.close("logged out")
			return
		}
		var m inbound
		if err := json.Unmarshal(data, &m); err != nil {
			cc.sendJSON(msgError{Type: "error", Error: "malformed JSON: " + err.Error()})
			continue
		}
		if e := s.consoleRequest(ctx, username, m, cc, log); e != "" {
			cc.sendJSON(msgError{Type: "error", Error: e, Ref: m.Type, Call: m.Call})
		}
	}
}

func (cc *consoleConn) sendJSON(v any) {
	if b, err := json.Marshal(v); err == nil {
		cc.send(b)
	}
}

// consoleRequest acts on one message and returns an error text for the
// page, "" when all went well.
func (s *Server) consoleRequest(ctx context.Context, username string, m inbound, cc *consoleConn, log *slog.Logger) string {
	needCall := func() string {
		if m.Call == "" {
			return "call is required"
		}
		return ""
	}
	switch m.Type {
	case "ping":
		cc.sendJSON(map[string]string{"type": "pong"})
		return ""
	case "status":
		if m.Status != opAvailable && m.Status != opPaused {
			return `status must be "available" or "paused"`
		}
		return s.desk.setStatus(username, m.Status)
	case "answer":
		if e := needCall(); e != "" {
			return e
		}
		if !strings.Contains(m.SDP, "m=audio") {
			return "sdp must be a complete offer with an audio section"
		}
		reply, e := s.desk.answer(username, m.Call, m.SDP)
		if e != "" {
			return e
		}
		// The reply comes from the call's goroutine; it may not wait long.
		go func() {
			select {
			case r := <-reply:
				if r.err != nil {
					cc.sendJSON(msgError{Type: "error", Error: r.err.Error(), Ref: "answer", Call: m.Call})
					return
				}
				cc.sendJSON(msgAnswered{Type: "answered", Call: m.Call, SDP: r.sdp})
			case <-cc.done:
			}
		}()
		log.Info("operator answers", "call", m.Call)
		return ""
	case "hangup", "transfer_complete", "transfer_cancel":
		if e := needCall(); e != "" {
			return e
		}
		return s.desk.command(username, m.Call, opCommand{kind: m.Type})
	case "hold":
		if e := needCall(); e != "" {
			return e
		}
		if m.On == nil {
			return "on (true or false) is required"
		}
		return s.desk.command(username, m.Call, opCommand{kind: "hold", on: *m.On})
	case "transfer":
		if e := needCall(); e != "" {
			return e
		}
		if m.Mode != "blind" && m.Mode != "warm" {
			return `mode must be "blind" or "warm"`
		}
		if m.Person == "" {
			return "person is required"
		}
		return s.desk.command(username, m.Call, opCommand{kind: "transfer", mode: m.Mode, person: m.Person})
	case "":
		return "type is required"
	default:
		return fmt.Sprintf("unknown message type %q", m.Type)
	}
}
