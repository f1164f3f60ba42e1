"""Small helpers for the tests that run real servers as child processes:
config files, free loopback ports, waiting for an answer, stopping by
PID. Only the standard library and requests, so any test can import it."""

import os
import signal
import socket
import subprocess
import time

import requests

LOG_TAIL_LINES = 150


def ini(sections):
    """{section: {option: value}} as the text of an INI file."""
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        for key, value in options.items():
            lines.append('%s = %s' % (key, value))
        lines.append('')
    return '\n'.join(lines)


def tail(path, lines=LOG_TAIL_LINES):
    """The last lines of a log file (or why there is none)."""
    try:
        with open(path, errors='replace') as f:
            content = f.readlines()
    except OSError as e:
        return '(no log: %s)' % e
    return ''.join(content[-lines:])


def gone(pid):
    """True when pid has exited (a zombie counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except (OSError, IndexError):
        return True


def free_port():
    """A loopback TCP port nothing listens on now. For servers that take
    a port number rather than a listening socket: another process could
    take it first, which the caller notices when its server cannot bind."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def stop_group(pid, process=None, timeout=20):
    """Stop a process started with start_new_session=True, by PID: SIGTERM
    to its process group, SIGKILL after timeout seconds."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while not (process.poll() is not None if process else gone(pid)):
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        time.sleep(0.1)
    if process is not None:
        process.wait()


def wait_http(url, process, timeout, describe):
    """Wait until GET url answers 200 while process runs.

    :param describe: callable returning what to show on failure (a log).
    :raises RuntimeError: the process exited, or no 200 within timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError('exited with %s before %s answered:\n%s'
                               % (process.returncode, url, describe()))
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError('%s did not answer within %ss:\n%s'
                               % (url, timeout, describe()))
        time.sleep(0.1)


def spawn_server(args, log_path, cwd):
    """Start a server (Apache, uWSGI) in its own session, its stdout and
    stderr written to log_path, and return its Popen. The caller's
    GLANCE_LITE_CONFIG_FILES is not passed on: the shipped WSGI entry
    points must find the test's configuration by themselves."""
    env = dict(os.environ)
    env.pop('GLANCE_LITE_CONFIG_FILES', None)
    with open(log_path, 'w') as log:
        # The child has its own copy of the descriptor.
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                                start_new_session=True)


def children_of(pid):
    """PIDs whose parent is pid (a server's workers and daemons)."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def stop_with_children(process, timeout=30):
    """Stop a server that stops its own workers on SIGTERM (Apache's
    parent, uWSGI's master), by PID: SIGTERM, SIGKILL after timeout
    seconds; any child still alive after it exited is killed by its own
    PID."""
    children = children_of(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
