"""Runs a command on a pseudo-terminal and drives it like a user at a keyboard, for tests of
interactive commands: argv[1] is a JSON list of steps [text to type or null, text to wait for],
argv[2:] the command. Prints what the terminal showed; exit 0 when every wait was met and the
command ended, 1 (with what was shown so far) when a wait timed out after 30 s."""
import json, os, pty, select, sys, time

steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
shown = b''

def wait_for(text, timeout=30.0):
    global shown
    end = time.time() + timeout
    while text.encode() not in shown:
        if time.time() > end:
            return False
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return text.encode() in shown
            if not data:
                return text.encode() in shown
            shown += data
    return True

for typed, expected in steps:
    if typed is not None:
        os.write(fd, typed.encode())
    if expected is not None and not wait_for(expected):
        sys.stdout.write(shown.decode(errors='replace'))
        sys.stdout.write('\n[timed out waiting for %r]\n' % expected)
        os.kill(pid, 9)
        sys.exit(1)
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors='replace'))
sys.exit(0 if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 1)
