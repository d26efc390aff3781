"""A fork server for the crash tests: ``python -m tests.integration.crash_server``.

Importing the application takes seconds on a busy machine, and the crash tests start a server
dozens of times. This process imports it once, then forks a fresh server process (a new app,
engine and uvicorn on a port of the test's choosing) for each ``serve PORT`` line read on stdin,
answering ``pid N``. The test kills that process with SIGKILL and asks for the next one. Every
server reads its settings from the environment (``SHORTLIST_*``) like ``shortlist serve``;
its output goes to the file named by ``SHORTLIST_CRASH_LOG``.
"""

import os
import signal
import sys


def serve(port: int) -> None:
    """In the forked child: a new app from the environment, served until killed."""
    import uvicorn

    from api.app import create_app
    from infra.settings import Settings

    log = os.open(os.environ["SHORTLIST_CRASH_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    app = create_app(Settings())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main() -> int:
    # The expensive imports, once; the children inherit them (uvicorn's loop and protocol
    # modules too, which it would otherwise import in each child as it starts).
    import uvicorn.lifespan.on
    import uvicorn.loops.auto
    import uvicorn.protocols.http.auto
    import uvicorn.protocols.websockets.auto  # noqa: F401

    import api.app  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed children are reaped by the kernel
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[:1] == ["exit"]:
            return 0
        if command[:1] != ["serve"] or len(command) != 2:
            print(f"error unknown command {line!r}", flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                serve(int(command[1]))
            finally:
                os._exit(0)
        print(f"pid {pid}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
