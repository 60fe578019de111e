package console

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesThePageWithStrictHeaders(t *testing.T) {
	h := Handler()
	for _, tt := range []struct {
		path, wantType, wantBody string
		code                     int
	}{
		{"/console/", "text/html", `data-testid="login-username"`, 200},
		{"/console/static/app.js", "text/javascript", "centralinoConsole", 200},
		{"/console/static/console.css", "text/css", "", 200},
		{"/console/static/nope.js", "", "", 404},
		{"/console/static/../console.go", "", "", 404},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
		if w.Code != tt.code {
			t.Errorf("%s: %d, want %d", tt.path, w.Code, tt.code)
			continue
		}
		if tt.code != 200 {
			continue
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
			t.Errorf("%s: Content-Type %q", tt.path, ct)
		}
		if !strings.Contains(w.Body.String(), tt.wantBody) {
			t.Errorf("%s: body lacks %q", tt.path, tt.wantBody)
		}
		for _, hd := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
			if w.Header().Get(hd) == "" {
				t.Errorf("%s: no %s header", tt.path, hd)
			}
		}
	}
}
