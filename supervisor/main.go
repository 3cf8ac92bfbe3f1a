// Command paso-supervisor is the native build of Paso's command supervisor (src/supervisor.ts has the same
// protocol and is used where this binary is not built). It sits between a worker and one command so that the
// command never outlives its worker: the worker holds the other end of this process's stdin, and when the
// worker dies for any reason the kernel closes it, this process reads end-of-file and kills the command's
// process group (SIGTERM, SIGKILL after the grace period). It starts in a few milliseconds where a Node
// process takes about 100.
//
// Protocol, one JSON document per line:
//
//	stdin  <- {"script","cwd","env","killGraceMs","logLimitBytes","mask"} to start, then "term" (SIGTERM, then
//	          SIGKILL after the grace period) or "kill" (SIGKILL now). End-of-file means the worker is gone: term.
//	stdout -> {"pid":n} once the command runs, {"exit":code,"signal":name|null} or {"error":message} when it
//	          has ended; the supervisor exits right after.
//	fd 3   <- the command's log: its stdout and stderr (one pipe, in the order written), secrets in "mask"
//	          replaced by *** as the output streams, up to logLimitBytes, then a marker line.
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

type startMessage struct {
	Script        string            `json:"script"`
	Cwd           string            `json:"cwd"`
	Env           map[string]string `json:"env"`
	KillGraceMs   int               `json:"killGraceMs"`
	LogLimitBytes int64             `json:"logLimitBytes"`
	Mask          []string          `json:"mask"`
}

// drain is how long the supervisor waits, after the command exits, for the rest of its output.
const drain = 500 * time.Millisecond

var stdoutMu sync.Mutex

func send(message map[string]any) {
	line, _ := json.Marshal(message)
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	// The worker may be gone: nobody reads, and that is fine.
	_, _ = os.Stdout.Write(append(line, '\n'))
}

func signalGroup(pid int, sig syscall.Signal) {
	_ = syscall.Kill(-pid, sig) // ESRCH: the group is gone
}

func main() {
	lines := bufio.NewReaderSize(os.Stdin, 1<<20)
	first, err := lines.ReadString('\n')
	if err != nil && first == "" {
		os.Exit(0) // the worker died before it said what to run
	}
	var message startMessage
	if json.Unmarshal([]byte(first), &message) != nil {
		send(map[string]any{"error": "the supervisor expected a start message"})
		os.Exit(2)
	}
	os.Exit(run(message, lines))
}

func run(message startMessage, lines *bufio.Reader) int {
	log := os.NewFile(3, "log")
	// Inherited descriptors stay open across exec unless marked: the script must not have the log, or it could
	// write to it around the mask (echo "$SECRET" >&3).
	syscall.CloseOnExec(3)
	reader, writer, err := os.Pipe()
	if err != nil {
		send(map[string]any{"error": err.Error()})
		return 0
	}
	env := make([]string, 0, len(message.Env))
	for k, v := range message.Env {
		env = append(env, k+"="+v)
	}
	// Stdout and stderr are the same pipe (Go hands the one descriptor to both), read and masked below; the
	// script's text goes to the shell untouched. (The Node supervisor, which cannot share a pipe so, runs an
	// outer shell that joins them: one shell start more, about 3 ms.)
	cmd := exec.Command("/bin/sh", "-c", message.Script)
	cmd.Dir = message.Cwd
	cmd.Env = env
	cmd.Stdout = writer
	cmd.Stderr = writer
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		send(map[string]any{"error": err.Error()})
		return 0
	}
	_ = writer.Close() // the command holds it now: end-of-file when it (and what it started) closes it
	pid := cmd.Process.Pid
	send(map[string]any{"pid": pid})

	var killMu sync.Mutex
	killing := false
	kill := func(now bool) {
		killMu.Lock()
		defer killMu.Unlock()
		if now {
			killing = true
			signalGroup(pid, syscall.SIGKILL)
			return
		}
		if killing {
			return
		}
		killing = true
		signalGroup(pid, syscall.SIGTERM)
		time.AfterFunc(time.Duration(message.KillGraceMs)*time.Millisecond, func() { signalGroup(pid, syscall.SIGKILL) })
	}

	copied := make(chan struct{})
	go func() {
		defer close(copied)
		copyMasked(reader, log, message)
	}()
	go func() {
		for {
			line, err := lines.ReadString('\n')
			switch trimmed := trimNewline(line); trimmed {
			case "term":
				kill(false)
			case "kill":
				kill(true)
			}
			if err != nil {
				kill(false) // end-of-file: the worker is gone
				return
			}
		}
	}()
	// Signals sent to the supervisor itself (an operator's kill) are passed on the same way.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for range signals {
			kill(false)
		}
	}()

	state, _ := cmd.Process.Wait()
	killMu.Lock()
	wasKilling := killing
	killMu.Unlock()
	if wasKilling {
		signalGroup(pid, syscall.SIGKILL) // a killed command's leftovers go with it
	}
	select {
	case <-copied:
	case <-time.After(drain):
	}
	report := map[string]any{"exit": nil, "signal": nil}
	if status, ok := state.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		report["signal"] = signalName(status.Signal())
	} else {
		report["exit"] = state.ExitCode()
	}
	send(report)
	return 0
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// copyMasked copies the command's output to the log, masked, up to the limit; the rest is read and dropped,
// so a command that prints without end fills no disk and no memory.
func copyMasked(from io.Reader, to *os.File, message startMessage) {
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
