"""comfy-connector's database template maker: a ComfyUI database at its schema head, made by ComfyUI's
own code, that new instances start from instead of migrating a fresh file each (see
src/server/database-template.ts).

Run by the connector as `python template_db.py OUT.db` with the ComfyUI folder as working directory
and the servers' interpreter and environment. It does what main.py does for the database and nothing
else: enables ComfyUI's argument parsing, parses `--database-url sqlite:///OUT.db`, and calls
`app.database.db.init_db()`, which runs the alembic migrations up to the head of this checkout. Then
it prints one JSON line: {"head": the checkout's head revision, "current": the revision now in OUT.db}.
Exit code 3 (reason on stderr) when ComfyUI's database dependencies are missing. Nothing is written
into the checkout (no bytecode); nothing of torch or CUDA is imported.
"""
import json
import os
import signal
import sys


def main():
    sys.dont_write_bytecode = True
    # A short-lived helper: it must not outlive the process that waits for it (Linux).
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    out = os.path.abspath(sys.argv[1])
    root = os.getcwd()
    sys.path[0] = root  # as `python main.py`: the checkout first on sys.path
    sys.argv = [os.path.join(root, "main.py"), "--database-url", "sqlite:///" + out]

    import comfy.options

    comfy.options.enable_args_parsing()
    from app.database import db

    if not db.dependencies_available():
        sys.stderr.write("ComfyUI's database dependencies (sqlalchemy, alembic) are not importable\n")
        sys.exit(3)
    db.init_db()

    import sqlite3
    from alembic.script import ScriptDirectory

    # The checkout's head as ComfyUI's init_db computes it (one head, or it raises), and what alembic
    # recorded in the new file (its alembic_version table).
    head = ScriptDirectory.from_config(db.get_alembic_config()).get_current_head()
    connection = sqlite3.connect(out)
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        connection.close()
    current = rows[0][0] if len(rows) == 1 else None
    sys.stdout.write(json.dumps({"head": head, "current": current}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
