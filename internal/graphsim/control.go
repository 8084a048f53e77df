package graphsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/allot-dev/allot/internal/directory"
)

// serveControl is the simulator's own JSON API under /_sim/, for tools and
// tests in other processes (allot sim is often run standalone):
//
//	GET    /_sim/info                          Info
//	GET    /_sim/counts                        Counts
//	GET    /_sim/users/{id}                    directory.User
//	POST   /_sim/users                         create (directory.User JSON)
//	PATCH  /_sim/users/{id}                    UserUpdate (Graph property names)
//	DELETE /_sim/users/{id}
//	POST   /_sim/users/{id}/assignLicense      {"addLicenses":[…],"removeLicenses":[…]}
//	GET    /_sim/users/{id}/licenseStates
//	POST   /_sim/groups/{id}/members           {"id":"…"}
//	DELETE /_sim/groups/{id}/members/{memberId}
//	GET    /_sim/groups/{id}/members
//	GET    /_sim/skus
//	GET    /_sim/mailboxes
//	GET    /_sim/writes                        the write log
//	GET    /_sim/writes/counts                 WriteCounts
//	POST   /_sim/writes/reset
//	GET    /_sim/faults, POST /_sim/faults     Faults
//	POST   /_sim/delta/expire                  expire every delta token
//	POST   /_sim/licenses/process              finish pending group license processing now
//
// Errors are {"error":{"code","message"}} with 400/404/409.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/_sim/"), "/"), "/")
	reply := func(v any, err error) {
		if err != nil {
			controlError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if v == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}
	decode := func(v any) error {
		if err := json.NewDecoder(r.Body).Decode(v); err != nil {
			return &controlErr{status: http.StatusBadRequest, code: "invalid_json", msg: err.Error()}
		}
		return nil
	}
	m, n := r.Method, len(segs)
	switch {
	case m == "GET" && n == 1 && segs[0] == "info":
		reply(s.Info(), nil)
	case m == "GET" && n == 1 && segs[0] == "counts":
		reply(s.Counts(), nil)
	case m == "GET" && n == 1 && segs[0] == "skus":
		reply(s.Skus(), nil)
	case m == "GET" && n == 1 && segs[0] == "mailboxes":
		reply(s.Mailboxes(), nil)
	case m == "POST" && n == 1 && segs[0] == "users":
		var u directory.User
		if err := decode(&u); err != nil {
			reply(nil, err)
			return
		}
		reply(s.CreateUser(u))
	case m == "GET" && n == 2 && segs[0] == "users":
		reply(s.User(segs[1]))
	case m == "PATCH" && n == 2 && segs[0] == "users":
		var p UserUpdate
		if err := decode(&p); err != nil {
			reply(nil, err)
			return
		}
		reply(nil, s.UpdateUser(segs[1], p))
	case m == "DELETE" && n == 2 && segs[0] == "users":
		reply(nil, s.DeleteUser(segs[1]))
	case m == "POST" && n == 3 && segs[0] == "users" && segs[2] == "assignLicense":
		var b struct {
			Add    []LicenseChange `json:"addLicenses"`
			Remove []string        `json:"removeLicenses"`
		}
		if err := decode(&b); err != nil {
			reply(nil, err)
			return
		}
		reply(nil, s.AssignLicense(segs[1], b.Add, b.Remove))
	case m == "GET" && n == 3 && segs[0] == "users" && segs[2] == "licenseStates":
		reply(s.LicenseStates(segs[1]))
	case m == "GET" && n == 3 && segs[0] == "groups" && segs[2] == "members":
		reply(s.Members(segs[1]))
	case m == "POST" && n == 3 && segs[0] == "groups" && segs[2] == "members":
		var b struct {
			ID string `json:"id"`
		}
		if err := decode(&b); err != nil {
			reply(nil, err)
			return
		}
		reply(nil, s.AddMember(segs[1], b.ID))
	case m == "DELETE" && n == 4 && segs[0] == "groups" && segs[2] == "members":
		reply(nil, s.RemoveMember(segs[1], segs[3]))
	case m == "GET" && n == 1 && segs[0] == "writes":
		reply(s.WriteLog(), nil)
	case m == "GET" && n == 2 && segs[0] == "writes" && segs[1] == "counts":
		reply(s.WriteCounts(), nil)
	case m == "POST" && n == 2 && segs[0] == "writes" && segs[1] == "reset":
		s.ResetWriteLog()
		reply(nil, nil)
	case m == "GET" && n == 1 && segs[0] == "faults":
		reply(s.Faults(), nil)
	case m == "POST" && n == 1 && segs[0] == "faults":
		f := s.Faults()
		if err := decode(&f); err != nil {
			reply(nil, err)
			return
		}
		s.SetFaults(f)
		reply(s.Faults(), nil)
	case m == "POST" && n == 2 && segs[0] == "delta" && segs[1] == "expire":
		s.ExpireDeltaTokens()
		reply(nil, nil)
	case m == "POST" && n == 2 && segs[0] == "licenses" && segs[1] == "process":
		s.ProcessLicensesNow()
		reply(nil, nil)
	default:
		reply(nil, &controlErr{status: http.StatusNotFound, code: "not_found", msg: "no such simulator endpoint: " + r.Method + " " + r.URL.Path})
	}
}

type controlErr struct {
	status    int
	code, msg string
}

func (e *controlErr) Error() string { return e.msg }

func controlError(w http.ResponseWriter, err error) {
	status, code := http.StatusBadRequest, "bad_request"
	var ce *controlErr
	var ge *GraphError
	switch {
	case errors.As(err, &ce):
		status, code = ce.status, ce.code
	case errors.Is(err, ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, ErrAlreadyMember), errors.Is(err, ErrNotMember):
		status, code = http.StatusConflict, "conflict"
	case errors.As(err, &ge):
		status, code = ge.Status, ge.Code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": err.Error()}})
}
