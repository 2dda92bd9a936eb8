package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// request is request-<n>.json: one object the runtime has staged for the program.
type request struct {
	N         int               `json:"n"`
	RunID     string            `json:"runId"`
	Env       map[string]string `json:"env"`
	LogFormat string            `json:"logFormat"`
}

// result is result-<n>.json: how the program of request n ended.
type result struct {
	N          int      `json:"n"`
	ExitCode   *int     `json:"exitCode"`
	Signal     *string  `json:"signal"`
	StderrTail []string `json:"stderrTail"`
	Error      string   `json:"error,omitempty"`
}

// shutdown is shutdown.json: the runtime is done (or failing); the launcher exits with its code.
type shutdown struct {
	ExitCode *int `json:"exitCode"`
}

// launcherStarted is launcher.json, written once at start.
type launcherStarted struct {
	PID       int    `json:"pid"`
	StartedAt string `json:"startedAt"`
}

type handoff struct {
	dir string
}

func (h handoff) path(name string) string {
	return filepath.Join(h.dir, name)
}

func (h handoff) writeStarted(now time.Time) error {
	return writeJSON(h.path("launcher.json"), launcherStarted{PID: os.Getpid(), StartedAt: now.UTC().Format(time.RFC3339Nano)})
}

// readJSON reads name into value; found is false while the file does not exist yet.
func (h handoff) readJSON(name string, value any) (found bool, err error) {
	data, err := os.ReadFile(h.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	if err := json.Unmarshal(data, value); err != nil {
		return true, fmt.Errorf("%s is not valid JSON: %w", name, err)
	}
	return true, nil
}

func (h handoff) request(n int) (req request, found bool, err error) {
	found, err = h.readJSON(fmt.Sprintf("request-%d.json", n), &req)
	return req, found, err
}

func (h handoff) writeResult(r result) error {
	if r.StderrTail == nil {
		r.StderrTail = []string{}
	}
	return writeJSON(h.path(fmt.Sprintf("result-%d.json", r.N)), r)
}

// shutdownCode returns the exit code of shutdown.json once the runtime has written it.
func (h handoff) shutdownCode() (code int, found bool, err error) {
	var s shutdown
	found, err = h.readJSON("shutdown.json", &s)
	if !found || err != nil {
		return 0, found, err
	}
	if s.ExitCode == nil {
		return 0, true, errors.New("shutdown.json has no exitCode")
	}
	return *s.ExitCode, true, nil
}

// heartbeatAge is how long ago the runtime last rewrote `heartbeat` (or, before its first
// heartbeat, how long the launcher has been waiting for one).
func (h handoff) heartbeatAge(now, started time.Time) time.Duration {
	info, err := os.Stat(h.path("heartbeat"))
	if err != nil {
		return now.Sub(started)
	}
	return now.Sub(info.ModTime())
}
