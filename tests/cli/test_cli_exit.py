"""How the command's process ends: the interpreter's last garbage collection over everything the
run built is skipped (it cost half a second after a 1,000-project audit), and what the run
printed still arrives whole."""

from __future__ import annotations

import subprocess
import sys

# An exit handler registered before `main` runs after main's own ones (atexit is last in, first
# out), so it sees what they did.
PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, file=sys.stderr))
from bootstrap.cli import main
main(["--version"])
"""


def test_the_objects_are_frozen_before_the_last_collection_at_exit() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert done.returncode == 0
    assert "frozen at exit: True" in done.stderr
    assert done.stdout.startswith("bootstrap, version")


def test_main_hooks_the_exit_once_however_often_it_runs() -> None:
    code = (
        "import atexit\nfrom bootstrap.cli import main\n"
        "for _ in range(3):\n"
        "    try: main(['--version'])\n"
        "    except SystemExit: pass\n"
        "print(atexit._ncallbacks())"
    )
    once = (
        "import atexit\nfrom bootstrap.cli import main\n"
        "try: main(['--version'])\n"
        "except SystemExit: pass\n"
        "print(atexit._ncallbacks())"
    )
    three = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    one = subprocess.run([sys.executable, "-c", once], capture_output=True, text=True)
    assert three.stdout.splitlines()[-1] == one.stdout.splitlines()[-1]
