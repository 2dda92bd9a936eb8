package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests start this test binary again as the launcher (TestMain), so signals reach a real
// process; the protocol's timings are shortened there (testTimings) and nowhere else.
const launcherMainEnv = "MLOPS_LAUNCHER_TEST_MAIN"

var testTimings = timings{
	poll:             20 * time.Millisecond,
	heartbeatTimeout: 1500 * time.Millisecond,
	killAfter:        500 * time.Millisecond,
	drain:            500 * time.Millisecond,
	signalledWait:    2 * time.Second,
}

func TestMain(m *testing.M) {
	if os.Getenv(launcherMainEnv) == "1" {
		if len(os.Args) > 1 && os.Args[1] == "run" {
			l := newLauncher(os.Getenv("MLOPS_HANDOFF_DIR"), os.Args[3:], os.Stdout)
			l.timings = testTimings
			os.Exit(l.run())
		}
		os.Exit(dispatch(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// session is a launcher process and the test playing the runtime's side of the handoff.
type session struct {
	t      *testing.T
	dir    string
	cmd    *exec.Cmd
	stdout *lockedBuffer
	exited chan struct{}
	// stopBeats ends the heartbeat goroutine.
	stopBeats chan struct{}
}

func startLauncher(t *testing.T, heartbeat bool, command ...string) *session {
	t.Helper()
	s := &session{t: t, dir: t.TempDir(), stdout: &lockedBuffer{}, exited: make(chan struct{}), stopBeats: make(chan struct{})}
	if heartbeat {
		s.beat()
		go func() {
			for {
				select {
				case <-s.stopBeats:
					return
				case <-time.After(100 * time.Millisecond):
					s.beat()
				}
			}
		}()
	}
	s.cmd = exec.Command(os.Args[0], append([]string{"run", "--"}, command...)...)
	s.cmd.Env = append(os.Environ(), launcherMainEnv+"=1", "MLOPS_HANDOFF_DIR="+s.dir, "FROM_LAUNCHER=inherited", "MLOPS_RUN_ID=overridden")
	s.cmd.Stdout = s.stdout
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.stopHeartbeat()
		s.cmd.Process.Kill()
		<-s.exited
	})
	s.waitFor("launcher.json")
	return s
}

func (s *session) beat() {
	writeJSON(filepath.Join(s.dir, "heartbeat"), time.Now().UTC().Format(time.RFC3339Nano))
}

func (s *session) stopHeartbeat() {
	select {
	case <-s.stopBeats:
	default:
		close(s.stopBeats)
	}
}

func (s *session) waitFor(name string) []byte {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(filepath.Join(s.dir, name)); err == nil {
			return data
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("%s never appeared; launcher output:\n%s", name, s.stdout.String())
	return nil
}

func (s *session) request(n int, format string) {
	s.t.Helper()
	out := filepath.Join(s.dir, fmt.Sprintf("out-%d", n))
	if err := os.Mkdir(out, 0o755); err != nil {
		s.t.Fatal(err)
	}
	err := writeJSON(filepath.Join(s.dir, fmt.Sprintf("request-%d.json", n)), request{
		N: n, RunID: fmt.Sprintf("run-%d", n), LogFormat: format,
		Env: map[string]string{"MLOPS_OUTPUT_DIR": out, "MLOPS_RUN_ID": fmt.Sprintf("run-%d", n), "MLOPS_INPUT_FILE": "/staged/input.csv"},
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *session) result(n int) result {
	s.t.Helper()
	var r result
	if err := json.Unmarshal(s.waitFor(fmt.Sprintf("result-%d.json", n)), &r); err != nil {
		s.t.Fatal(err)
	}
	if r.N != n {
		s.t.Fatalf("result-%d.json says n = %d", n, r.N)
	}
	return r
}

func (s *session) shutdown(code int) {
	writeJSON(filepath.Join(s.dir, "shutdown.json"), map[string]int{"exitCode": code})
}

func (s *session) signal(sig syscall.Signal) {
	s.cmd.Process.Signal(sig)
}

// exitCode waits for the launcher to exit.
func (s *session) exitCode() int {
	s.t.Helper()
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		s.t.Fatalf("the launcher did not exit; output:\n%s", s.stdout.String())
		return -1
	}
}

func (s *session) logLines() []map[string]any {
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.stdout.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			s.t.Fatalf("not a JSON line: %q", sc.Text())
		}
		lines = append(lines, line)
	}
	return lines
}

func (s *session) messages(stream string) []string {
	var messages []string
	for _, line := range s.logLines() {
		if line["stream"] == stream {
			messages = append(messages, line["message"].(string))
		}
	}
	return messages
}

func exitOf(r result) string {
	if r.Signal != nil {
		return *r.Signal
	}
	if r.ExitCode == nil {
		return "none"
	}
	return fmt.Sprint(*r.ExitCode)
}

func TestEachRequestRunsTheProgramWithItsEnvironmentAndShutdownGivesTheExitCode(t *testing.T) {
	s := startLauncher(t, true, "sh", "-c", `echo "$MLOPS_RUN_ID $FROM_LAUNCHER"; echo oops >&2; echo made > "$MLOPS_OUTPUT_DIR/out.csv"; exit "${MLOPS_RUN_ID#run-}"`)
	var started launcherStarted
	json.Unmarshal(s.waitFor("launcher.json"), &started)
	if started.PID != s.cmd.Process.Pid || started.StartedAt == "" {
		t.Errorf("launcher.json: %+v", started)
	}
	s.request(1, "json")
	if r := s.result(1); exitOf(r) != "1" || len(r.StderrTail) != 1 || r.StderrTail[0] != "oops" {
		t.Errorf("result 1: %s, tail %q", exitOf(r), r.StderrTail)
	}
	s.request(2, "json")
	if r := s.result(2); exitOf(r) != "2" {
		t.Errorf("result 2: %s", exitOf(r))
	}
	for _, n := range []int{1, 2} {
		if data, _ := os.ReadFile(filepath.Join(s.dir, fmt.Sprintf("out-%d/out.csv", n))); string(data) != "made\n" {
			t.Errorf("run %d wrote %q", n, data)
		}
	}
	s.shutdown(3)
	if code := s.exitCode(); code != 3 {
		t.Errorf("launcher exit %d, want shutdown.json's 3", code)
	}
	got := s.messages("stdout")
	if len(got) != 2 || got[0] != "run-1 inherited" || got[1] != "run-2 inherited" {
		t.Errorf("stdout lines %q (the request's MLOPS_RUN_ID wins, the launcher's env is inherited)", got)
	}
	for _, line := range s.logLines() {
		if line["stream"] == "stderr" && (line["level"] != "warn" || line["runId"] == nil) {
			t.Errorf("stderr line %v", line)
		}
	}
}

func TestTextRequestsGiveTextLines(t *testing.T) {
	s := startLauncher(t, true, "sh", "-c", `printf 'a\033b\n'`)
	s.request(1, "text")
	s.result(1)
	s.shutdown(0)
	s.exitCode()
	if !strings.Contains(s.stdout.String(), "[run-1] stdout: a\\x1bb\n") {
		t.Errorf("output %q", s.stdout.String())
	}
}

func TestAProgramKilledByASignalReportsTheSignal(t *testing.T) {
	s := startLauncher(t, true, "sh", "-c", `kill -KILL $$`)
	s.request(1, "json")
	if r := s.result(1); exitOf(r) != "SIGKILL" || r.ExitCode != nil {
		t.Errorf("result %+v", r)
	}
}

func TestAMissingCommandGives127WithAnErrorNamingIt(t *testing.T) {
	for _, command := range []string{"no-such-program-xyz", "/nowhere/no-such-program"} {
		s := startLauncher(t, true, command, "arg")
		s.request(1, "json")
		r := s.result(1)
		if exitOf(r) != "127" || !strings.Contains(r.Error, command) || !strings.Contains(r.Error, "not found") {
			t.Errorf("%s: result %+v", command, r)
		}
		s.shutdown(0)
		if code := s.exitCode(); code != 0 {
			t.Errorf("the launcher itself must not fail: exit %d", code)
		}
	}
}

func TestANonExecutableCommandGives126(t *testing.T) {
	file := filepath.Join(t.TempDir(), "script")
	os.WriteFile(file, []byte("#!/bin/sh\necho hi\n"), 0o644)
	s := startLauncher(t, true, file)
	s.request(1, "json")
	if r := s.result(1); exitOf(r) != "126" || !strings.Contains(r.Error, file) {
		t.Errorf("result %+v", r)
	}
}

func TestAScriptWhoseInterpreterIsMissingGives127SayingSo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "script")
	os.WriteFile(file, []byte("#!/no/such/interpreter\n"), 0o755)
	s := startLauncher(t, true, file)
	s.request(1, "json")
	if r := s.result(1); exitOf(r) != "127" || !strings.Contains(r.Error, "interpreter") {
		t.Errorf("result %+v", r)
	}
}

func TestSIGTERMIsForwardedToTheProgramsGroup(t *testing.T) {
	// The shell waits for `sleep`, its child: the group signal reaches both.
	s := startLauncher(t, true, "sh", "-c", `trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`)
	s.request(1, "json")
	waitForLine(t, s, "ready")
	s.signal(syscall.SIGTERM)
	if r := s.result(1); exitOf(r) != "7" {
		t.Errorf("result %s, want the program's own exit 7 from its trap", exitOf(r))
	}
	if got := s.messages("stdout"); len(got) != 2 || got[1] != "got TERM" {
		t.Errorf("stdout %q", got)
	}
	s.shutdown(143)
	if code := s.exitCode(); code != 143 {
		t.Errorf("exit %d", code)
	}
}

func TestASecondSIGTERMKillsAProgramThatIgnoresTheFirst(t *testing.T) {
	s := startLauncher(t, true, "sh", "-c", `trap '' TERM; echo ready; while :; do :; done`)
	s.request(1, "json")
	waitForLine(t, s, "ready")
	s.signal(syscall.SIGTERM)
	waitForLog(t, s, "SIGTERM forwarded to the program")
	s.signal(syscall.SIGTERM)
	if r := s.result(1); exitOf(r) != "SIGKILL" {
		t.Errorf("result %s", exitOf(r))
	}
}

func TestAStaleHeartbeatStopsTheProgramAndExits1(t *testing.T) {
	s := startLauncher(t, true, "sh", "-c", `trap '' TERM; echo ready; while :; do :; done`)
	s.request(1, "json")
	waitForLine(t, s, "ready")
	s.stopHeartbeat()
	if code := s.exitCode(); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	// It ignored SIGTERM, so it was killed after killAfter.
	if r := s.result(1); exitOf(r) != "SIGKILL" {
		t.Errorf("result %s", exitOf(r))
	}
	if !strings.Contains(s.stdout.String(), "heartbeat") {
		t.Errorf("no log line about the heartbeat: %s", s.stdout.String())
	}
}

func TestNoHeartbeatAtAllEndsAnIdleLauncherWith1(t *testing.T) {
	s := startLauncher(t, false, "true")
	if code := s.exitCode(); code != 1 {
		t.Errorf("exit %d", code)
	}
}

func TestShutdownWhileAProgramRunsTerminatesItAndExitsWithTheCode(t *testing.T) {
	s := startLauncher(t, true, "sh", "-c", `trap 'exit 9' TERM; echo ready; while :; do sleep 0.05; done`)
	s.request(1, "json")
	waitForLine(t, s, "ready")
	s.shutdown(5)
	if code := s.exitCode(); code != 5 {
		t.Errorf("exit %d", code)
	}
	if r := s.result(1); exitOf(r) != "9" {
		t.Errorf("result %s", exitOf(r))
	}
}

func TestAnIdleSignalledLauncherStillExitsWithShutdownsCode(t *testing.T) {
	s := startLauncher(t, true, "true")
	s.signal(syscall.SIGTERM)
	s.shutdown(4)
	if code := s.exitCode(); code != 4 {
		t.Errorf("exit %d", code)
	}
}

func TestOutputIsLoggedWholeAndTheTailKept(t *testing.T) {
	// A 1 MiB line, 30 stderr lines, and no final line break.
	s := startLauncher(t, true, "sh", "-c", `head -c 1048576 /dev/zero | tr '\0' x; echo; i=1; while [ $i -le 30 ]; do echo "err $i" >&2; i=$((i+1)); done; printf end`)
	s.request(1, "json")
	r := s.result(1)
	if len(r.StderrTail) != 20 || r.StderrTail[0] != "err 11" || r.StderrTail[19] != "err 30" {
		t.Errorf("tail %q", r.StderrTail)
	}
	s.shutdown(0)
	s.exitCode()
	var long strings.Builder
	pieces := 0
	for _, line := range s.logLines() {
		if line["stream"] == "stdout" && strings.HasPrefix(line["message"].(string), "x") {
			long.WriteString(line["message"].(string))
			pieces++
		}
	}
	if pieces != 16 || long.Len() != 1<<20 {
		t.Errorf("%d pieces, %d bytes", pieces, long.Len())
	}
	if got := s.messages("stdout"); got[len(got)-1] != "end" {
		t.Errorf("last line %q", got[len(got)-1])
	}
}

func TestInstallCopiesTheLauncherReadOnlyAndRunnable(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "bin", "mlops-launcher")
	cmd := exec.Command(os.Args[0], "install", dest)
	cmd.Env = append(os.Environ(), launcherMainEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install: %v %s", err, out)
	}
	info, err := os.Stat(dest)
	if err != nil || info.Mode().Perm() != 0o555 {
		t.Fatalf("installed: %v %v", info, err)
	}
	if _, err := os.Stat(dest + ".tmp"); err == nil {
		t.Error("the temporary copy was left behind")
	}
	version := exec.Command(dest, "version")
	version.Env = append(os.Environ(), launcherMainEnv+"=1")
	if out, err := version.Output(); err != nil || !strings.HasPrefix(string(out), "mlops-launcher protocol "+protocolVersion) {
		t.Errorf("the copy says %q (%v)", out, err)
	}
}

func TestWritesAreAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "result-1.json")
	if err := writeJSON(path, result{N: 1}); err != nil {
		t.Fatal(err)
	}
	// A failing write leaves the previous file as it was and no temporary file.
	err := writeAtomically(path, 0o644, func(w io.Writer) error {
		w.Write([]byte(`{"n": 2, "exitCo`))
		return fmt.Errorf("disk full")
	})
	if err == nil {
		t.Fatal("the write's error was lost")
	}
	data, _ := os.ReadFile(path)
	if string(data) != `{"n":1,"exitCode":null,"signal":null,"stderrTail":null}`+"\n" {
		t.Errorf("the file is now %q", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

func waitForLine(t *testing.T, s *session, message string) {
	t.Helper()
	waitUntil(t, s, func() bool {
		for _, m := range s.messages("stdout") {
			if m == message {
				return true
			}
		}
		return false
	})
}

func waitForLog(t *testing.T, s *session, text string) {
	t.Helper()
	waitUntil(t, s, func() bool { return strings.Contains(s.stdout.String(), text) })
}

func waitUntil(t *testing.T, s *session, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out; output:\n%s", s.stdout.String())
}

// lockedBuffer is the launcher's stdout, written by exec's copying goroutine while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
