"""Runs moto_server, exiting as soon as the process that started it is gone.

An exit handler in the test process cannot run when that process is killed (SIGKILL, a
crashed worker), so the server watches its parent itself: no server is ever left behind.
"""

import os
import sys
import threading
import time

from moto.server import main

parent = os.getppid()


def exit_when_orphaned() -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


threading.Thread(target=exit_when_orphaned, daemon=True).start()
sys.exit(main(sys.argv[1:]))
