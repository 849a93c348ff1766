"""cli_pty.py - drive `infer chat` in a pseudo-terminal for the CLI tests.

usage: python3 cli_pty.py SCENARIO INFER MODEL [ARGS...]
       python3 cli_pty.py progress INFER COMMAND MODEL INPUT OUTPUT [ARGS...]

Scenarios (each exits 0 when every expectation held, else prints what it
saw and exits 1):
  reply      type a message, read the streamed reply, then quit with Ctrl-D
  interrupt  start a long reply, Ctrl-C stops it and the prompt returns;
             Ctrl-C at the prompt warns, a second one quits (exit 0)
  history    type two messages, recall the first with Up-arrow and send it
  greedy     (real model) type a message and check a non-empty reply streams
  progress   run `infer COMMAND MODEL ARGS` with stdin from INPUT and stdout
             to OUTPUT, stderr on the terminal: a progress bar with a count,
             a rate and an ETA must be drawn, and cleared at the end
"""
import os
import pty
import re
import select
import sys
import time


class Session:
    def __init__(self, argv, stdin_path=None, stdout_path=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm"
            try:
                if stdin_path:
                    os.dup2(os.open(stdin_path, os.O_RDONLY), 0)
                if stdout_path:
                    os.dup2(os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        self.seen = b""
        self.pos = 0

    def expect(self, pattern, timeout=10.0):
        """Read until pattern appears after the previous match; on a match,
        the next expect looks only past this one."""
        end = time.time() + timeout
        while True:
            i = self.seen.find(pattern, self.pos)
            if i >= 0:
                self.pos = i + len(pattern)
                return True
            if time.time() >= end:
                return False
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                self.seen += data
        i = self.seen.find(pattern, self.pos)
        if i >= 0:
            self.pos = i + len(pattern)
        return i >= 0

    def send(self, data):
        # Give libedit time to put the terminal in raw mode after its prompt.
        time.sleep(0.2)
        os.write(self.fd, data)

    def wait_exit(self, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            self.expect(b"\x00never\x00", 0.1)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        return None


def fail(s, what):
    sys.stderr.write("FAIL: %s\n--- terminal output ---\n%r\n" % (what, s.seen[-2000:]))
    sys.exit(1)


def scenario_reply(s):
    if not s.expect(b">>> "):
        fail(s, "no prompt")
    s.send(b"hello there\r")
    if not s.expect(b"you said: hello there"):
        fail(s, "no streamed reply")
    if not s.expect(b">>> "):
        fail(s, "no prompt after the reply")
    s.send(b"\x04")
    rc = s.wait_exit()
    if rc != 0:
        fail(s, "Ctrl-D exit status %r" % rc)


def scenario_interrupt(s):
    if not s.expect(b">>> "):
        fail(s, "no prompt")
    s.send(b"slow reply please\r")
    if not s.expect(b"...", 5):
        fail(s, "the slow reply did not start")
    os.write(s.fd, b"\x03")
    if not s.expect(b"[interrupted]", 5):
        fail(s, "Ctrl-C did not stop the reply")
    if not s.expect(b">>> ", 5):
        fail(s, "no prompt after the interrupted reply")
    s.send(b"still here\r")
    if not s.expect(b"you said: still here", 5):
        fail(s, "the chat did not go on after Ctrl-C")
    if not s.expect(b">>> "):
        fail(s, "no prompt")
    s.send(b"\x03")
    if not s.expect(b"Ctrl-C again", 5):
        fail(s, "no warning after Ctrl-C at the prompt")
    s.send(b"\x03")
    rc = s.wait_exit()
    if rc != 0:
        fail(s, "second Ctrl-C: exit status %r" % rc)


def scenario_history(s):
    if not s.expect(b">>> "):
        fail(s, "no prompt")
    s.send(b"first\r")
    if not s.expect(b"you said: first"):
        fail(s, "no reply to first")
    s.expect(b">>> ")
    s.send(b"second\r")
    if not s.expect(b"you said: second"):
        fail(s, "no reply to second")
    s.expect(b">>> ")
    s.send(b"\x1b[A\x1b[A\r")  # Up, Up, Enter: "first" again
    if not s.expect(b"you said: first"):
        fail(s, "Up-arrow did not recall the history")
    s.expect(b">>> ")
    s.send(b"/exit\r")
    rc = s.wait_exit()
    if rc != 0:
        fail(s, "/exit status %r" % rc)


def scenario_greedy(s):
    if not s.expect(b">>> ", 30):
        fail(s, "no prompt")
    s.send(b"Once upon a time\r")
    # The reply streams, then the prompt comes back.
    if not s.expect(b">>> ", 30):
        fail(s, "no prompt after the reply")
    after = s.seen.split(b"Once upon a time", 1)[-1]
    if len(after.replace(b">>> ", b"").strip()) == 0:
        fail(s, "empty reply")
    s.send(b"/exit\r")
    rc = s.wait_exit()
    if rc != 0:
        fail(s, "/exit status %r" % rc)


def scenario_progress(s):
    rc = s.wait_exit(30)
    if rc != 0:
        fail(s, "exit status %r" % rc)
    text = s.seen.decode("utf-8", "replace")
    if not re.search(r"\[#+\.*\] \d+/\d+ +[0-9.]+/s +ETA \d+:\d\d", text):
        fail(s, "no progress bar with count, rate and ETA")
    if not text.endswith("\r\x1b[K"):
        fail(s, "the progress bar is not cleared at the end")


def main():
    scenario = sys.argv[1]
    if scenario == "progress":
        infer, command, model, stdin_path, stdout_path = sys.argv[2:7]
        s = Session([infer, command, model] + sys.argv[7:], stdin_path, stdout_path)
    else:
        s = Session([sys.argv[2], "chat"] + sys.argv[3:])
    globals()["scenario_" + scenario](s)
    print("ok %s" % scenario)


if __name__ == "__main__":
    main()
