"""comfy-connector's preloader: imports ComfyUI's heavy third-party modules once, then forks one
child per server start that runs ComfyUI's own main.py, exactly as `python main.py ARGS` would.

Run by src/server/preload.ts as `python preload.py CONFIG_JSON` with the ComfyUI folder as working
directory. CONFIG_JSON: {"main": "/abs/ComfyUI/main.py", "modules": ["torch", ...], "precompile": true,
"freeze": true}. With "freeze", what the preload made goes to the collector's permanent generation
(gc.freeze()) before the first fork; see _freeze.

ComfyUI's own source files are compiled here once (kept in memory, keyed by their exact bytes), so a
child's imports skip the compile step, as they would with a warm __pycache__ (which this project must
not write into a user's checkout, and which PYTHONDONTWRITEBYTECODE turns off): an import whose file
changed since, in even one byte, compiles as usual. Executing the modules is left to the child.

Nothing of ComfyUI itself is imported here: its modules read their arguments, folders and devices
at import time (comfy.cli_args parses sys.argv on import, folder_paths and comfy.model_management
derive state from it, and model_management would initialise CUDA), so each child imports them fresh
with its own argv, cwd and environment, as a cold start does.

Control protocol, one JSON object per line. Node writes to our stdin:
  {"op": "fork", "id": N, "argv": [...], "cwd": "...", "env": {...}, "stdio": "/path.sock",
   "token": "...", "cleanup": "/instance/dir"}
We write to our original stdout (moved off fd 1 so that a module printing at import cannot corrupt it):
  {"event": "ready", "pid", "ms", "imported", "failed", "compiled", "frozen", "cuda_initialized", "threads", "unsafe"}
  {"event": "forked", "id", "pid"} | {"event": "refused", "id", "reason"}
  {"event": "exit", "pid", "code", "signal"}      (a child ended; we are its parent and reaped it)
End of file on stdin means the Node process is gone (or closed us): every child's process group
gets SIGINT, then SIGKILL after a second, the children's cleanup folders are removed, and we exit.
"""
import json
import os
import select
import signal
import sys
import time


def _send(fd, message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


def _cuda_initialized():
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    try:
        return bool(torch.cuda.is_initialized())
    except Exception:  # a torch without the cuda module: nothing to initialise
        return False


def _unsafe_reason():
    """Why a fork now would not be a clean copy, or None."""
    if _cuda_initialized():
        return "CUDA is initialised in the preloaded process (a forked child cannot use it)"
    import threading

    if threading.active_count() > 1:
        names = ", ".join(t.name for t in threading.enumerate() if t is not threading.main_thread())
        return "the preloaded process runs Python threads (%s); a fork copies only one" % names
    return None


def _preload(modules):
    imported, failed = [], []
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception as error:  # absent or broken: the child imports (or fails on) it itself
            failed.append("%s: %s" % (name, str(error).splitlines()[0] if str(error) else type(error).__name__))
    return imported, failed


# Folders of a ComfyUI checkout that hold no code ComfyUI imports at start (or none at all).
_SKIP_DIRS = {"tests", "tests-unit", "models", "input", "output", "user", "temp", "web", "node_modules",
              "venv", ".venv", "__pycache__", "script_examples", "blueprints"}


def _precompile(root):
    """{path: (source bytes, code)} for every .py file under the ComfyUI folder."""
    cache = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                cache[path] = (data, compile(data, path, "exec", dont_inherit=True))
            except (OSError, SyntaxError, ValueError):
                pass  # the child's own import reports it, as a cold start would
    return cache


def _use_code_cache(cache):
    """Imports of a file whose bytes are unchanged take the code compiled here."""
    from importlib.machinery import SourceFileLoader

    compile_source = SourceFileLoader.source_to_code

    def source_to_code(self, data, path, *, _optimize=-1):
        hit = cache.get(path) if _optimize == -1 else None
        if hit is not None and hit[0] == data:
            return hit[1]
        return compile_source(self, data, path, _optimize=_optimize)

    SourceFileLoader.source_to_code = source_to_code


def _freeze():
    """Moves what the preload made (~450k objects) out of the collector's sight, as Python's docs
    advise before fork() without exec(). A child's full collections then scan only its own objects:
    on v0.33.0 the one full collection of a forked start took 360-820 ms over the inherited heap,
    70 ms without it. They are module-level objects that live as long as the process anyway (the
    cyclic garbage of the imports is collected first), and a collection no longer writes to their
    headers, so the children keep sharing those pages with us instead of copying them."""
    import gc

    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "SIG%d" % number


def serve(config):
    """The preloader's loop. Returns only in a forked child: the request it must run."""
    started = time.perf_counter()
    # Our control channel moves off fds 0/1; fd 0 becomes /dev/null and fd 1 our stderr, so that
    # whatever a module prints while it is imported goes to the log, not into the protocol.
    ctl_in, ctl_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a Python handler, so that the wakeup fd is written

    imported, failed = _preload(config.get("modules", []))
    compiled = 0
    if config.get("precompile", True):
        cache = _precompile(os.path.dirname(config["main"]))
        _use_code_cache(cache)
        compiled = len(cache)
    frozen = _freeze() if config.get("freeze", True) else 0
    unsafe = _unsafe_reason()
    _send(ctl_out, {
        "event": "ready", "pid": os.getpid(), "ms": round((time.perf_counter() - started) * 1000),
        "imported": imported, "failed": failed, "compiled": compiled, "frozen": frozen,
        "cuda_initialized": _cuda_initialized(),
        "threads": len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None,
        "unsafe": unsafe,
    })

    children = {}  # pid -> cleanup folder
    pending = b""
    while True:
        try:
            readable, _, _ = select.select([ctl_in, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in readable:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
        _reap(children, ctl_out)
        if ctl_in not in readable:
            continue
        chunk = os.read(ctl_in, 65536)
        if not chunk:
            _shutdown(children)
            os._exit(0)
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if not line.strip():
                continue
            request = json.loads(line)
            if request.get("op") != "fork":
                continue
            reason = _unsafe_reason()
            if reason is not None:
                _send(ctl_out, {"event": "refused", "id": request["id"], "reason": reason})
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            request["parent"] = os.getpid()
            try:
                pid = os.fork()
            except OSError as error:
                _send(ctl_out, {"event": "refused", "id": request["id"], "reason": "fork failed: %s" % error})
                continue
            if pid == 0:
                # The child: nothing of the preloader's control machinery may survive in it.
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (ctl_in, ctl_out, wake_r, wake_w):
                    os.close(fd)
                return request
            children[pid] = request.get("cleanup") or ""
            _send(ctl_out, {"event": "forked", "id": request["id"], "pid": pid})


def _reap(children, ctl_out):
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.pop(pid, None)
        code = os.waitstatus_to_exitcode(status)
        _send(ctl_out, {"event": "exit", "pid": pid, "code": code if code >= 0 else None,
                        "signal": _signal_name(-code) if code < 0 else None})


def _shutdown(children):
    """Node is gone: take every child's group down (SIGINT, a second, SIGKILL) and its folder."""
    for pid in children:
        _kill_group(pid, signal.SIGINT)
    deadline = time.monotonic() + 1.0
    while children and time.monotonic() < deadline:
        for pid in list(children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                _kill_group(pid, signal.SIGKILL)  # what the child started
                _remove(children.pop(pid))
        time.sleep(0.02)
    for pid, folder in children.items():
        _kill_group(pid, signal.SIGKILL)
        _remove(folder)


def _kill_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except OSError:
        pass


def _remove(folder):
    if folder:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def become_server(request):
    """In the forked child: the session, stdio, cwd, environment and argv of a cold start."""
    import socket

    os.setsid()  # a session and process group of its own, as a detached spawn
    # Without the preloader nobody reports this process's end, so it must not outlive it: Node
    # SIGKILLs a forked server whose preloader died, and this covers the instant between the fork
    # and Node learning the pid (Linux; where prctl is missing, Node's rule alone applies).
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if os.getppid() != request["parent"]:
        os._exit(1)  # the preloader died before the line above
    streams = []
    for tag in (b"o", b"e"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(request["stdio"])
        sock.sendall(tag + request["token"].encode() + b"\n")
        streams.append(sock)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(streams[0].fileno(), 1)
    os.dup2(streams[1].fileno(), 2)
    for sock in streams:
        os.close(sock.detach())
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    # Interpreter-wide random state was copied from the preloader: reseed what a cold start seeds
    # from the OS (Python's own `random` reseeds itself after a fork).
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        try:
            numpy.random.seed()
        except Exception:
            pass


if __name__ == "__main__":
    _config = json.loads(sys.argv[1])
    _main = _config["main"]
    # As `python main.py`: the script's folder first on sys.path.
    sys.path[0] = os.path.dirname(_main)
    _request = serve(_config)
    del _config
    become_server(_request)
    del _request
    import runpy

    # At module level and unguarded, so that an exception or SystemExit ends the child the way it
    # ends `python main.py` (traceback on stderr, exit code 1 or the SystemExit code).
    runpy.run_path(_main, run_name="__main__")
