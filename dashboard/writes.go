package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"sweep/internal/safetext"
)

// maxForm bounds a POST body: a note or a params object is a few KB.
const maxForm = 128 << 10

// done is the page (or JSON) a successful write answers with.
type done struct {
	Study, StudyURL, Message string
}

// writable parses the form of a write request, or answers 403 when the
// dashboard is read-only.
func (s *Server) writable(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.Writer == nil {
		http.Error(w, "403 forbidden: the dashboard is read-only (start it with --allow-writes)", http.StatusForbidden)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "400 bad request: "+safetext.Terminal(err.Error()), http.StatusBadRequest)
		return false
	}
	return true
}

// answer reports a write: JSON for scripts that ask for it, else a page
// linking back to the study.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, study, msg string) {
	d := done{Study: safetext.Terminal(study), StudyURL: studyURL(study), Message: safetext.Terminal(msg)}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		s.writeJSON(w, map[string]string{"study": study, "message": msg})
		return
	}
	s.render(w, "done", "sweep: "+study, d)
}

// enqueue serves POST /study/{name}/enqueue with form field params, a JSON
// object of param name → value ({"lr": 0.1, "optimizer": "sgd"}).
func (s *Server) enqueue(w http.ResponseWriter, r *http.Request) {
	if !s.writable(w, r) {
		return
	}
	params, err := parseParams(r.PostFormValue("params"))
	if err != nil {
		s.fail(w, err)
		return
	}
	name := r.PathValue("name")
	n, err := s.cfg.Writer.Enqueue(r.Context(), name, params)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.answer(w, r, name, fmt.Sprintf("trial %d queued (WAITING); workers run it before sampled trials", n))
}

// parseParams reads a JSON object of scalar values as the text `sweep
// enqueue --param NAME=VALUE` would get.
func parseParams(raw string) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: params: want a JSON object such as {\"lr\": 0.1}: %v", ErrInvalid, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%w: params: give at least one param", ErrInvalid)
	}
	out := map[string]string{}
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case json.Number:
			out[k] = x.String()
		case bool:
			out[k] = fmt.Sprint(x)
		default:
			return nil, fmt.Errorf("%w: param %q: want a number or a string", ErrInvalid, k)
		}
	}
	return out, nil
}

// note serves POST /study/{name}/note: form field text, and append=1 to
// add it as a new line.
func (s *Server) note(w http.ResponseWriter, r *http.Request) {
	if !s.writable(w, r) {
		return
	}
	name, text := r.PathValue("name"), r.PostFormValue("text")
	appendLine := r.PostFormValue("append") != ""
	if err := s.cfg.Writer.SetNote(r.Context(), name, text, appendLine); err != nil {
		s.fail(w, err)
		return
	}
	s.answer(w, r, name, "note saved")
}

// stop serves POST /study/{name}/stop.
func (s *Server) stop(w http.ResponseWriter, r *http.Request) {
	if !s.writable(w, r) {
		return
	}
	name := r.PathValue("name")
	if err := s.cfg.Writer.Stop(r.Context(), name, "stopped from sweep dashboard"); err != nil {
		s.fail(w, err)
		return
	}
	s.answer(w, r, name, "study stopped: its workers start no new trial; running trials finish")
}
