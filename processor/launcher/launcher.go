package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// timings of the protocol; tests shorten them.
type timings struct {
	// poll is how often the handoff directory is read.
	poll time.Duration
	// heartbeatTimeout: a heartbeat older than this means the runtime died.
	heartbeatTimeout time.Duration
	// killAfter is the time a program gets between SIGTERM and SIGKILL when the launcher stops it.
	killAfter time.Duration
	// drain bounds the wait for the program's last output once it has exited.
	drain time.Duration
	// signalledWait is how long a signalled, idle launcher waits for shutdown.json.
	signalledWait time.Duration
}

var protocolTimings = timings{
	poll:             100 * time.Millisecond,
	heartbeatTimeout: 60 * time.Second,
	killAfter:        10 * time.Second,
	drain:            2 * time.Second,
	signalledWait:    10 * time.Second,
}

// Exit codes of a program that could not be started, as a shell reports them.
const (
	exitNotFound      = 127
	exitNotExecutable = 126
	// exitSignalled: a launcher stopped by SIGTERM before the runtime said how the run ended.
	exitSignalled = 128 + int(syscall.SIGTERM)
)

type launcher struct {
	handoff  handoff
	command  []string
	log      *logWriter
	timings  timings
	signals  chan os.Signal
	started  time.Time
	format   string
	signaled time.Time // when the first SIGTERM/SIGINT came; zero if none
}

func newLauncher(dir string, command []string, out io.Writer) *launcher {
	return &launcher{
		handoff: handoff{dir: dir},
		command: command,
		log:     &logWriter{out: out, now: time.Now},
		timings: protocolTimings,
		signals: make(chan os.Signal, 4),
		format:  "json",
	}
}

// run serves request-1.json, request-2.json, ... until shutdown.json says how the run ended,
// and returns that exit code (or 1 if the runtime is gone).
func (l *launcher) run() int {
	signal.Notify(l.signals, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(l.signals)
	l.started = time.Now()
	if err := l.handoff.writeStarted(l.started); err != nil {
		l.log.launcher("error", "cannot write launcher.json in %s: %v", l.handoff.dir, err)
		return exitLauncherError
	}
	for n := 1; ; {
		if code, done := l.checkRuntime(); done {
			return code
		}
		req, found, err := l.handoff.request(n)
		if err != nil {
			l.log.launcher("error", "request %d: %v", n, err)
			l.writeResult(result{N: n, ExitCode: intPtr(exitLauncherError), Error: err.Error()})
			n++
			continue
		}
		if found {
			code, stop := l.serve(n, req)
			n++
			if stop {
				return code
			}
			continue
		}
		if !l.signaled.IsZero() && time.Since(l.signaled) > l.timings.signalledWait {
			l.log.launcher("warn", "stopped by a signal; the runtime wrote no shutdown.json")
			return exitSignalled
		}
		select {
		case <-l.signals:
			l.noteSignal()
		case <-time.After(l.timings.poll):
		}
	}
}

// checkRuntime reports whether the launcher must exit now: shutdown.json is there, or the
// runtime's heartbeat is stale.
func (l *launcher) checkRuntime() (code int, done bool) {
	code, found, err := l.handoff.shutdownCode()
	if err != nil {
		l.log.launcher("error", "%v", err)
		return exitLauncherError, true
	}
	if found {
		return code, true
	}
	if age := l.handoff.heartbeatAge(time.Now(), l.started); age > l.timings.heartbeatTimeout {
		l.log.launcher("error", "the runtime container's heartbeat is %s old (limit %s): it is gone, stopping",
			age.Round(time.Second), l.timings.heartbeatTimeout)
		return exitLauncherError, true
	}
	return 0, false
}

func (l *launcher) noteSignal() {
	if l.signaled.IsZero() {
		l.signaled = time.Now()
	}
}

// serve runs the program for request n and writes its result; stop is true when the launcher
// must exit afterwards (with code).
func (l *launcher) serve(n int, req request) (code int, stop bool) {
	if req.LogFormat == "text" || req.LogFormat == "json" {
		l.format = req.LogFormat
	}
	if !l.signaled.IsZero() {
		l.writeResult(result{N: n, Signal: strPtr("SIGTERM"), Error: "the launcher was stopped before the program started"})
		return 0, false
	}
	res, code, stop := l.execute(n, req)
	l.writeResult(res)
	return code, stop
}

func (l *launcher) writeResult(r result) {
	if err := l.handoff.writeResult(r); err != nil {
		l.log.launcher("error", "cannot write result-%d.json: %v", r.N, err)
	}
}

// execute runs the command once with the request's environment and waits for it, forwarding
// signals and watching the runtime meanwhile.
func (l *launcher) execute(n int, req request) (res result, code int, stop bool) {
	res = result{N: n}
	cmd := exec.Command(l.command[0], l.command[1:]...)
	if cmd.Err != nil {
		return l.notStarted(res, cmd.Err), 0, false
	}
	cmd.Env = mergeEnv(os.Environ(), req.Env)
	// Its own process group, so a signal reaches the program's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	tail := &stderrTail{}
	var tailMu sync.Mutex
	stdout, err := l.pipeLines(cmd, "stdout", func(line []byte, partial bool) {
		l.log.program(l.format, req.RunID, "stdout", line, partial)
	})
	if err != nil {
		return l.notStarted(res, err), 0, false
	}
	stderr, err := l.pipeLines(cmd, "stderr", func(line []byte, partial bool) {
		l.log.program(l.format, req.RunID, "stderr", line, partial)
		tailMu.Lock()
		tail.add(line)
		tailMu.Unlock()
	})
	if err != nil {
		stdout.abandon()
		return l.notStarted(res, err), 0, false
	}
	if err := cmd.Start(); err != nil {
		stdout.abandon()
		stderr.abandon()
		return l.notStarted(res, err), 0, false
	}
	stdout.started()
	stderr.started()

	code, stop = l.supervise(cmd)
	// Leftovers of the program (background children) must not write outputs after it ended.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	stdout.drain(l.timings.drain)
	stderr.drain(l.timings.drain)

	status := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if status.Signaled() {
		res.Signal = strPtr(signalName(status.Signal()))
	} else {
		res.ExitCode = intPtr(status.ExitStatus())
	}
	tailMu.Lock()
	res.StderrTail = tail.lines
	tailMu.Unlock()
	return res, code, stop
}

// supervise waits for the started program: SIGTERM/SIGINT to the launcher becomes SIGTERM to the
// program's group (a second one SIGKILL); shutdown.json or a stale heartbeat stops the program
// (SIGTERM, then SIGKILL after killAfter) and makes the launcher exit afterwards.
func (l *launcher) supervise(cmd *exec.Cmd) (code int, stop bool) {
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	group := -cmd.Process.Pid
	ticker := time.NewTicker(l.timings.poll)
	defer ticker.Stop()
	var killTimer <-chan time.Time
	terminate := func() {
		syscall.Kill(group, syscall.SIGTERM)
		if killTimer == nil {
			killTimer = time.After(l.timings.killAfter)
		}
	}
	forwarded := 0
	for {
		select {
		case <-exited:
			return code, stop
		case <-l.signals:
			l.noteSignal()
			forwarded++
			if forwarded == 1 {
				l.log.launcher("info", "SIGTERM forwarded to the program")
				syscall.Kill(group, syscall.SIGTERM)
			} else {
				l.log.launcher("warn", "second signal: killing the program")
				syscall.Kill(group, syscall.SIGKILL)
			}
		case <-killTimer:
			l.log.launcher("warn", "the program did not stop %s after SIGTERM: killing it", l.timings.killAfter)
			syscall.Kill(group, syscall.SIGKILL)
		case <-ticker.C:
			if !stop {
				if code, stop = l.checkRuntime(); stop {
					terminate()
				}
			}
		}
	}
}

// notStarted is the result of a command that could not be started: 127 if it was not found,
// 126 if it is not executable, never a crash of the launcher.
func (l *launcher) notStarted(res result, err error) result {
	code := exitNotFound
	message := fmt.Sprintf("command %q not found: %v", l.command[0], err)
	switch {
	case errors.Is(err, exec.ErrNotFound):
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ENOEXEC), errors.Is(err, syscall.EISDIR):
		code = exitNotExecutable
		message = fmt.Sprintf("command %q is not executable: %v", l.command[0], err)
	case errors.Is(err, fs.ErrNotExist):
		if _, statErr := os.Stat(l.command[0]); statErr == nil {
			// execve says ENOENT for an existing file whose #! interpreter is missing.
			message = fmt.Sprintf("command %q cannot be run: %v (is the interpreter of its #! line in the image?)", l.command[0], err)
		}
	default:
		code = exitNotExecutable
		message = fmt.Sprintf("command %q cannot be started: %v", l.command[0], err)
	}
	l.log.launcher("error", "%s", message)
	res.ExitCode = intPtr(code)
	res.Error = message
	return res
}

// lineStream reads one of the program's output pipes into log lines.
type lineStream struct {
	reader, writer *os.File
	done           chan struct{}
	splitter       *lineSplitter
}

func (l *launcher) pipeLines(cmd *exec.Cmd, stream string, emit func([]byte, bool)) (*lineStream, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	if stream == "stdout" {
		cmd.Stdout = w
	} else {
		cmd.Stderr = w
	}
	return &lineStream{reader: r, writer: w, done: make(chan struct{}), splitter: &lineSplitter{emit: emit}}, nil
}

// started closes the launcher's copy of the write end (the program holds its own) and starts
// reading.
func (s *lineStream) started() {
	s.writer.Close()
	go func() {
		io.Copy(s.splitter, s.reader)
		s.splitter.Close()
		close(s.done)
	}()
}

func (s *lineStream) abandon() {
	s.writer.Close()
	s.reader.Close()
}

// drain waits for the rest of the output, at most for timeout (a process outside the program's
// group may still hold the pipe).
func (s *lineStream) drain(timeout time.Duration) {
	s.reader.SetReadDeadline(time.Now().Add(timeout))
	<-s.done
	s.reader.Close()
}

// mergeEnv is the launcher's environment with the request's variables added, the request's
// winning.
func mergeEnv(base []string, extra map[string]string) []string {
	env := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, replaced := extra[name]; !replaced {
			env = append(env, kv)
		}
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		env = append(env, name+"="+extra[name])
	}
	return env
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
	syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
	syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM", syscall.SIGXCPU: "SIGXCPU",
	syscall.SIGXFSZ: "SIGXFSZ", syscall.SIGSYS: "SIGSYS",
}

func signalName(s syscall.Signal) string {
	if name, ok := signalNames[s]; ok {
		return name
	}
	return fmt.Sprintf("SIG%d", int(s))
}

func intPtr(v int) *int       { return &v }
func strPtr(v string) *string { return &v }
