// Command paso-supervisor is the native build of Paso's command supervisor: one process per worker that runs
// all of its commands, so that no command outlives its worker. The worker holds the other end of this
// process's stdin; when the worker dies for any reason the kernel closes it, this process reads end-of-file
// and kills every command's process group (SIGTERM, SIGKILL after each one's grace period), then exits once
// they have ended. Starting a command costs the worker one line on a pipe instead of a fork of its own large
// process: Node forks synchronously, on the thread that runs activities and the gateway, about 6 ms each
// with a worker's memory. (src/supervisor.ts is the fallback where this binary is not built: one Node process
// per command, with a per-command protocol.)
//
// Protocol, one JSON document per line, every one naming the command it is about by the worker's id:
//
//	stdin  <- {"op":"start","id":n,"script","cwd","env","killGraceMs","logLimitBytes","mask","log"} to start,
//	          {"op":"term","id":n} (SIGTERM, then SIGKILL after the grace period), {"op":"kill","id":n}
//	          (SIGKILL now). End-of-file means the worker is gone: term every command.
//	stdout -> {"id":n,"pid":p} once the command runs, {"id":n,"exit":code,"signal":name|null} or
//	          {"id":n,"error":message} when it has ended.
//
// A command's stdout and stderr are one pipe (in the order written), copied to the file "log" (appended;
// opened here, close-on-exec, so a script cannot write to it around the mask) with the secrets in "mask"
// replaced by *** as the output streams, up to logLimitBytes, then a marker line.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

type request struct {
	Op            string            `json:"op"`
	ID            int64             `json:"id"`
	Script        string            `json:"script"`
	Cwd           string            `json:"cwd"`
	Env           map[string]string `json:"env"`
	KillGraceMs   int               `json:"killGraceMs"`
	LogLimitBytes int64             `json:"logLimitBytes"`
	Mask          []string          `json:"mask"`
	Log           string            `json:"log"`
}

// drain is how long a command's report waits, after the command exits, for the rest of its output.
const drain = 500 * time.Millisecond

var stdoutMu sync.Mutex

func send(message map[string]any) {
	line, _ := json.Marshal(message)
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	// The worker may be gone: nobody reads, and that is fine (SIGPIPE is ignored, see main: the write fails).
	_, _ = os.Stdout.Write(append(line, '\n'))
}

func signalGroup(pid int, sig syscall.Signal) {
	_ = syscall.Kill(-pid, sig) // ESRCH: the group is gone
}

// command is one running script: its process group, whether it is being killed, and whether it has ended
// (then its pid may belong to another process: nothing is sent to it any more).
type command struct {
	pid         int
	killGraceMs int
	mu          sync.Mutex
	killing     bool
	ended       bool
	grace       *time.Timer
}

func (c *command) kill(now bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	if now {
		c.killing = true
		signalGroup(c.pid, syscall.SIGKILL)
		return
	}
	if c.killing {
		return
	}
	c.killing = true
	signalGroup(c.pid, syscall.SIGTERM)
	c.grace = time.AfterFunc(time.Duration(c.killGraceMs)*time.Millisecond, func() { c.kill(true) })
}

// end marks the command ended once its leader has been reaped; what it left in its group is killed if it was
// being killed.
func (c *command) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killing {
		signalGroup(c.pid, syscall.SIGKILL) // a killed command's leftovers go with it
	}
	c.ended = true
	if c.grace != nil {
		c.grace.Stop()
	}
}

// commands are the ones running, by the worker's id.
type commands struct {
	mu      sync.Mutex
	running map[int64]*command
	ended   sync.WaitGroup
}

func (cs *commands) get(id int64) *command {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.running[id]
}

func (cs *commands) termAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.running {
		c.kill(false)
	}
}

func main() {
	// Reports written once the worker is gone fail with EPIPE instead of killing this process (Go dies of a
	// SIGPIPE on its standard output by default): it must live on to SIGKILL what SIGTERM did not end.
	signal.Ignore(syscall.SIGPIPE)
	cs := &commands{running: map[int64]*command{}}
	// Signals sent to the supervisor itself (an operator's kill) are passed on the same way.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for range signals {
			cs.termAll()
		}
	}()
	lines := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, err := lines.ReadString('\n')
		if trimmed := trimNewline(line); trimmed != "" {
			var r request
			if err := json.Unmarshal([]byte(trimmed), &r); err != nil {
				// The id is read even when another field is wrong: the worker waits for an answer to it.
				refuse(r, fmt.Sprintf("not a request: %v", err))
			} else {
				handle(cs, r)
			}
		}
		if err != nil {
			break // end-of-file: the worker is gone
		}
	}
	cs.termAll()
	cs.ended.Wait()
}

func handle(cs *commands, r request) {
	switch r.Op {
	case "start":
		start(cs, r)
	case "term", "kill":
		if c := cs.get(r.ID); c != nil {
			c.kill(r.Op == "kill")
		}
	default:
		refuse(r, fmt.Sprintf("unknown op %q", r.Op))
	}
}

// refuse answers a request it cannot carry out: to the worker, which waits for it, when it has an id.
func refuse(r request, why string) {
	if r.ID != 0 {
		send(map[string]any{"id": r.ID, "error": why})
	}
	fmt.Fprintf(os.Stderr, "paso-supervisor: %s\n", why)
}

// start runs one command and reports its pid; a goroutine reports its end.
func start(cs *commands, r request) {
	fail := func(err error) { send(map[string]any{"id": r.ID, "error": err.Error()}) }
	log, err := os.OpenFile(r.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fail(err)
		return
	}
	reader, writer, err := os.Pipe()
	if err != nil {
		_ = log.Close()
		fail(err)
		return
	}
	env := make([]string, 0, len(r.Env))
	for k, v := range r.Env {
		env = append(env, k+"="+v)
	}
	// Stdout and stderr are the same pipe (Go hands the one descriptor to both), read and masked below; the
	// script's text goes to the shell untouched.
	cmd := exec.Command("/bin/sh", "-c", r.Script)
	cmd.Dir = r.Cwd
	cmd.Env = env
	cmd.Stdout = writer
	cmd.Stderr = writer
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = writer.Close()
		_ = reader.Close()
		_ = log.Close()
		fail(err)
		return
	}
	_ = writer.Close() // the command holds it now: end-of-file when it (and what it started) closes it
	c := &command{pid: cmd.Process.Pid, killGraceMs: r.KillGraceMs}
	cs.mu.Lock()
	cs.running[r.ID] = c
	cs.ended.Add(1)
	cs.mu.Unlock()
	send(map[string]any{"id": r.ID, "pid": c.pid})

	copied := make(chan struct{})
	go func() {
		defer close(copied)
		copyMasked(reader, log, r)
	}()
	go func() {
		defer cs.ended.Done()
		state, err := cmd.Process.Wait()
		c.end()
		select {
		case <-copied:
		case <-time.After(drain):
		}
		_ = reader.Close()
		_ = log.Close()
		report := map[string]any{"id": r.ID, "exit": nil, "signal": nil}
		if err != nil {
			report = map[string]any{"id": r.ID, "error": "waiting for the command: " + err.Error()}
		} else if status, ok := state.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			report["signal"] = signalName(status.Signal())
		} else {
			report["exit"] = state.ExitCode()
		}
		cs.mu.Lock()
		delete(cs.running, r.ID)
		cs.mu.Unlock()
		send(report)
	}()
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// copyMasked copies the command's output to the log, masked, up to the limit; the rest is read and dropped,
// so a command that prints without end fills no disk and no memory.
func copyMasked(from io.Reader, to *os.File, message request) {
	masker := newMasker(message.Mask)
	var written int64
	write := func(chunk []byte) {
		room := message.LogLimitBytes - written
		if room <= 0 || len(chunk) == 0 {
			return
		}
		if int64(len(chunk)) > room {
			chunk = chunk[:room]
		}
		n, _ := to.Write(chunk)
		written += int64(n)
		if written >= message.LogLimitBytes {
			fmt.Fprintf(to, "\n=== output truncated: the log reached its limit of %d bytes; the rest was dropped\n", message.LogLimitBytes)
		}
	}
	buf := make([]byte, 64*1024)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			write(masker.push(buf[:n], false))
		}
		if err != nil {
			write(masker.push(nil, true))
			return
		}
	}
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
	syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
	syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM", syscall.SIGXCPU: "SIGXCPU",
	syscall.SIGXFSZ: "SIGXFSZ",
}

// signalName names a signal as Node does (the worker reads it either way).
func signalName(sig syscall.Signal) string {
	if name, ok := signalNames[sig]; ok {
		return name
	}
	return fmt.Sprintf("SIG%d", int(sig))
}
