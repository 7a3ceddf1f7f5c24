"""dbt imported once per run, and forked for each dbt invocation of the run.

A dbt process spends about 1.1 s importing dbt before it reads its arguments, and a run starts two
(the event-day step and the rest). `kritinfo run` starts a fork server (`serving`) that imports
dbt while the run itself loads Dagster, on the other core. DbtCliResource starts `kritinfo-dbt`
(`client_main`) where it would start dbt: the client hands the server its arguments, environment,
working folder and standard streams, and the server forks a child that runs dbt's command line
with them, exactly as the `dbt` script would. The client forwards signals to that child and exits
with its exit code.

Given the run's dbt project, the server also parses it once (with the home's partial parse), and
a fork whose command would parse that same project the same way starts from that manifest, as
dbt's own programmatic runner allows (dbtRunner(manifest=...)): each dbt step of a run parsed the
project again, about 0.6 s each. And the forks of a home compile each Jinja template once, not once
per process (`CompiledTemplates`).

Without a server (KRITINFO_DBT_FORKS unset, or nothing listening: another process started the
run, or the server died) the client becomes the real dbt (exec), so every dbt invocation works
either way.
"""

from __future__ import annotations

import gc
import hashlib
import json
import marshal
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.settings import dbt_executable, dbt_project_files

SOCKET_VARIABLE = "KRITINFO_DBT_FORKS"
_LENGTH = struct.Struct(">I")
_STANDARD_STREAMS = [0, 1, 2]
_FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# A child whose client has gone (killed with the run) is interrupted, as dbt is by Ctrl-C, and
# killed if it has not stopped after this many seconds.
_ORPHAN_GRACE_SECONDS = 30


def client_executable() -> str:
    """`kritinfo-dbt` beside this interpreter (as settings.dbt_executable finds dbt)."""
    return str(Path(sys.executable).parent / "kritinfo-dbt")


# The commands a preloaded manifest serves (each parses the project first), and the options
# under which they would parse another project, or the same one otherwise.
_MANIFEST_COMMANDS = frozenset({"build", "run", "test", "seed", "compile", "show"})
_PARSE_OPTIONS = ("--project-dir", "--profiles-dir", "--profile", "--target", "-t", "--vars")


@contextmanager
def serving(
    project_dir: Path | None = None, partial_parse: Path | None = None, compiled_templates: Path | None = None
) -> Iterator[subprocess.Popen]:
    """A fork server for this process's dbt invocations while the block runs (see the module);
    with ``project_dir``, the server parses that project for them, from ``partial_parse`` if it
    exists; with ``compiled_templates``, its forks keep there the code of the templates they compile."""
    served = {"project": project_dir, "partial_parse": partial_parse, "compiled_templates": compiled_templates}
    folder = tempfile.mkdtemp(prefix="kritinfo-dbt-")  # 0700: only this user reaches the socket
    address = os.path.join(folder, "socket")
    # Listening before the server starts: a client that comes before the server has imported
    # dbt waits for it rather than finding no socket.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(address)
        listener.listen()
        # Its stdin is the server's lifeline: the server ends when this process closes it or dies.
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.transform.dbt_forks",
                str(listener.fileno()),
                json.dumps({name: str(path) for name, path in served.items() if path}),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            pass_fds=[listener.fileno()],
        )
    before = os.environ.get(SOCKET_VARIABLE)
    os.environ[SOCKET_VARIABLE] = address
    try:
        yield server
    finally:
        if before is None:
            del os.environ[SOCKET_VARIABLE]
        else:
            os.environ[SOCKET_VARIABLE] = before
        server.stdin.close()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _serve(
    listener: socket.socket,
    project: Path | None = None,
    partial_parse: Path | None = None,
    compiled_templates: Path | None = None,
) -> None:
    """Imports dbt (and parses ``project``), then forks a child for each client (see the module)."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches dbt through its client
    import dbt.adapters.duckdb
    import dbt.cli.main
    import dbt.task.build  # noqa: F401 (imported once, with the two above, to be inherited by every fork)

    _format_only_logged_events()
    templates = CompiledTemplates(compiled_templates)
    templates.install()
    folder = Path(listener.getsockname()).parent
    # The sources as they were before the parse: a fork whose project has changed since parses it anew.
    sources = _project_sources(project) if project else None
    preloaded = _parsed(project, partial_parse, folder) if project else None
    # Frozen, dbt's some 140,000 long-lived objects are not walked again by each fork's
    # garbage collections (nor written to by them, so the forks share their memory pages).
    gc.freeze()

    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in readable:  # closed: the run is over, or its process died (and left it)
            shutil.rmtree(folder, ignore_errors=True)
            return
        connection, _ = listener.accept()
        with connection:
            _, streams, _, _ = socket.recv_fds(connection, 1, len(_STANDARD_STREAMS))
            request = json.loads(_receive(connection))
            if os.fork() == 0:
                listener.close()
                served = preloaded and _parses_as_served(request, project) and _project_sources(project) == sources
                manifest = preloaded if served else None
                sys.exit(_run_dbt(connection, streams, request, manifest, templates))  # the child never serves
            for stream in streams:
                os.close(stream)


def _format_only_logged_events() -> None:
    """dbt makes a message of every event it fires, and formats it for each of its loggers (a JSON
    line for dagster-dbt on stdout, text for dbt.log); only then does Python's logging drop it
    below the logger's level: at the levels of a run, nearly all of them (each query's SQL,
    status and connection), some 2 s of CPU in the main build of a day's increment. In the forks,
    an event below every logger's level (and below warn: warnings may be errors) is dropped
    before its message is made, and one below a logger's level before it is formatted for that
    logger; what is written stays the same.

    Wraps private parts of dbt_common (dbt-core 1.11, which uv.lock pins): EventManager.fire_event
    and _Logger.write_line, whose python loggers, print events (these go out as errors) and level
    names are dbt's own. Events still reach any callback other than dbt's tracking of warnings.
    """
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events import event_manager
    from dbt_common.events import logger as dbt_logger

    python_levels = {str(level.value): number for level, number in dbt_logger._log_level_map.items()}
    warning = python_levels["warn"]

    def logs(logger, level: int) -> bool:
        return logger._python_logger is not None and logger._python_logger.isEnabledFor(level)

    fire_event = event_manager.EventManager.fire_event

    def fire_event_if_logged(self, e, level=None, node=None, force_warn_or_error_handling=False) -> None:
        name = "error" if type(e).__name__ in dbt_logger.PRINT_EVENT_NAMES else (level or e.level_tag()).value
        python_level = python_levels.get(name, warning)
        if (
            python_level < warning
            and not force_warn_or_error_handling
            and all(callback is track_behavior_change_warn for callback in self.callbacks)
            and not any(logs(logger, python_level) for logger in self.loggers)
        ):
            return
        fire_event(self, e, level, node, force_warn_or_error_handling)

    write_line = dbt_logger._Logger.write_line

    def write_line_if_logged(self, msg) -> None:
        name = "error" if dbt_logger._is_print_event(msg) else msg.info.level
        if name in python_levels and not logs(self, python_levels[name]):
            return
        write_line(self, msg)

    event_manager.EventManager.fire_event = fire_event_if_logged
    dbt_logger._Logger.write_line = write_line_if_logged


class CompiledTemplates:
    """dbt compiles the Jinja of every macro and node it renders into Python code, in every process
    anew: some 0.5 s of the main build of a day's increment, 0.1 s of the event-day build. The
    server loads the code its forks compiled before from ``kept`` (without it, nothing is kept),
    and a fork that compiled a template not kept writes the file again with it.

    Jinja makes a template's code from its source, its environment's class and extensions (dbt's
    differ in these: dbt_common's get_environment) and its syntax options; globals, filters and
    the class of undefined values are bound when the code runs. Jinja's own bytecode cache rests
    on the same. The file is read only in the Python and Jinja it was written by (marshal's code
    differs between Python versions). Not with dbt's macro debugging, which compiles each
    template to a file of its own."""

    # Beyond this many, a fork keeps only the templates it used: old projects' go.
    LIMIT = 20_000

    def __init__(self, kept: Path | None):
        import jinja2

        self.kept = kept
        self.version = (sys.version, jinja2.__version__)
        self.code = self._read()
        self.read = set(self.code)
        self.used: set[str] = set()

    def install(self) -> None:
        """From now on, this process and its forks compile a template only when its code is not here."""
        import jinja2
        from dbt_common.clients import jinja as dbt_jinja

        compile_source = jinja2.Environment.compile

        def compile_once(environment, source, name=None, filename=None, raw=False, defer_init=False):
            if raw or defer_init or name or filename or not isinstance(source, str) or dbt_jinja.MACRO_DEBUGGING:
                return compile_source(environment, source, name, filename, raw, defer_init)
            key = self.key(environment, source)
            self.used.add(key)
            if key not in self.code:
                self.code[key] = compile_source(environment, source)
            return self.code[key]

        jinja2.Environment.compile = compile_once

    @staticmethod
    def key(environment, source: str) -> str:
        """What a template's code is kept by."""
        syntax = (
            type(environment).__module__,
            type(environment).__qualname__,
            sorted(environment.extensions),
            environment.autoescape,
            environment.optimized,
            environment.is_async,
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.keep_trailing_newline,
            environment.newline_sequence,
            environment.block_start_string,
            environment.block_end_string,
            environment.variable_start_string,
            environment.variable_end_string,
            environment.comment_start_string,
            environment.comment_end_string,
            environment.line_statement_prefix,
            environment.line_comment_prefix,
        )
        return hashlib.sha256(repr((syntax, source)).encode("utf-8")).hexdigest()

    def _read(self) -> dict:
        if self.kept is None:
            return {}
        try:
            version, code = marshal.loads(self.kept.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return {}  # none kept, or not readable: compiled again
        return code if version == self.version and isinstance(code, dict) else {}

    def keep(self) -> None:
        """The file with this process's new templates, and those another fork kept meanwhile."""
        if self.kept is None or self.used <= self.read:
            return
        code = {**self._read(), **self.code}
        self.write(code if len(code) <= self.LIMIT else {key: code[key] for key in self.used})

    def write(self, code: dict) -> None:
        """``code`` (by key) as the file's templates."""
        unfinished = self.kept.with_name(f"{self.kept.name}.{os.getpid()}.tmp")
        try:
            unfinished.write_bytes(marshal.dumps((self.version, code)))
            unfinished.replace(self.kept)
        except OSError:
            unfinished.unlink(missing_ok=True)  # no room: compiled again next time


def _parsed(project: Path, partial_parse: Path, folder: Path):
    """The project's manifest as dbt parses it in this environment (the run's: its home's profile),
    or None when it does not parse: each fork then parses it, and reports what fails, itself."""
    from dbt.adapters.factory import reset_adapters
    from dbt.cli.main import dbtRunner

    target = folder / "parsed"
    target.mkdir()
    if partial_parse.exists():
        shutil.copyfile(partial_parse, target / partial_parse.name)
    # The profile from the project's folder, as a fork working there finds it.
    options = ["--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(target)]
    options += ["--log-path", str(target)]
    # Not with dbt's static parser: its native library, once used, deadlocks a fork that parses
    # (a fork whose command the served manifest does not serve). Files parse by Jinja instead,
    # slower only for those changed since the home's partial parse.
    parsed = dbtRunner().invoke(["--quiet", "--log-level-file", "none", "parse", "--no-static-parser", *options])
    # The parse's adapter is not the forks' (each registers its own), and holds semaphores that
    # would be reported leaked when the server ends.
    reset_adapters()
    gc.collect()
    if not parsed.success:
        return None
    keep_partial_parse(target / partial_parse.name, partial_parse)
    return parsed.result


def keep_partial_parse(written: Path, kept: Path) -> None:
    """``written`` (a dbt invocation's partial parse, if it wrote one) as the home's ``kept``."""
    if written.exists():
        unfinished = kept.with_suffix(".tmp")
        shutil.copyfile(written, unfinished)
        unfinished.replace(kept)  # a run killed while copying leaves the previous one whole


def _project_sources(project: Path) -> list[tuple[Path, int, int]]:
    """The project's files with their times and sizes: what a parse of it depends on."""
    return [(path, (status := path.stat()).st_mtime_ns, status.st_size) for path in dbt_project_files(project)]


def _parses_as_served(request: dict, project: Path) -> bool:
    """The client's dbt would parse the served project as the server did: a command that parses,
    from the project's folder, in the same home, with the profile of the project's folder (where
    dagster-dbt's DBT_PROFILES_DIR points), and no option that changes what is parsed."""
    arguments = request["arguments"]
    environment = request["environment"]
    return (
        bool(arguments)
        and arguments[0] in _MANIFEST_COMMANDS
        and Path(request["cwd"]).resolve() == project.resolve()
        and environment.get("KRITINFO_HOME") == os.environ.get("KRITINFO_HOME")
        and Path(environment.get("DBT_PROFILES_DIR", project)).resolve() == project.resolve()
        and not any(argument.split("=")[0] in _PARSE_OPTIONS for argument in arguments)
    )


def _run_dbt(
    connection: socket.socket, streams: list[int], request: dict, manifest, templates: CompiledTemplates
) -> int:
    """In the forked child: become the client's dbt process, starting from ``manifest`` if given;
    dbt's exit code, sent to the client once the templates it compiled are kept. The child then
    exits as the `dbt` script does (sys.exit), which closes the warehouse."""
    os.setpgrp()  # a Ctrl-C at the terminal reaches dbt once: through its client, not also directly
    for signal_number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signal_number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, stream in zip(_STANDARD_STREAMS, streams, strict=True):
        os.dup2(stream, target)
        os.close(stream)
    sys.stdout.reconfigure(line_buffering=True)  # dagster-dbt reads dbt's log line by line
    sys.stderr.reconfigure(line_buffering=True)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["environment"])
    sys.argv = ["dbt", *request["arguments"]]
    connection.sendall(_line({"pid": os.getpid()}))
    threading.Thread(target=_stop_when_client_gone, args=(connection,), daemon=True).start()
    from dbt.cli.main import cli

    try:
        # click's standalone mode ends with SystemExit; the name as the dbt script. A manifest in
        # the context's object is what dbtRunner(manifest=...) hands dbt: parsing is skipped.
        cli.main(prog_name="dbt", obj={"manifest": manifest} if manifest else None)
        code = 0
    except SystemExit as finished:
        code = finished.code if isinstance(finished.code, int) else int(finished.code is not None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the client may now go: its leaving stops nothing
    templates.keep()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        connection.sendall(_line({"exit": code}))
    except OSError:
        pass  # the client has gone
    return code


def _stop_when_client_gone(connection: socket.socket) -> None:
    connection.recv(1)  # the client never writes after its request: this returns when it is gone
    os.kill(os.getpid(), signal.SIGINT)
    threading.Event().wait(_ORPHAN_GRACE_SECONDS)
    os._exit(1)


def client_main() -> None:
    """The `kritinfo-dbt` command: dbt, run by the fork server when there is one."""
    arguments = sys.argv[1:]
    address = os.environ.get(SOCKET_VARIABLE)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if not address:
            raise FileNotFoundError(SOCKET_VARIABLE)
        connection.connect(address)
        socket.send_fds(connection, [b"\0"], _STANDARD_STREAMS)
        request = {"arguments": arguments, "environment": dict(os.environ), "cwd": os.getcwd()}
        payload = json.dumps(request).encode("utf-8")
        connection.sendall(_LENGTH.pack(len(payload)) + payload)
        replies = connection.makefile("rb")
        child = json.loads(replies.readline())["pid"]
    except (OSError, ValueError, KeyError):
        connection.close()
        dbt = dbt_executable()
        os.execv(dbt, [dbt, *arguments])
    for signal_number in _FORWARDED_SIGNALS:
        signal.signal(signal_number, lambda number, _frame: os.kill(child, number))
    ending = replies.readline()
    # No exit line: the child died (a signal, or an error dbt did not catch, shown on stderr).
    sys.exit(json.loads(ending)["exit"] if ending else 1)


def _receive(connection: socket.socket) -> bytes:
    (length,) = _LENGTH.unpack(_receive_exactly(connection, _LENGTH.size))
    return _receive_exactly(connection, length)


def _receive_exactly(connection: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = connection.recv(size)
        if not chunk:
            raise ConnectionError("the client closed before its request was complete")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _line(message: dict) -> bytes:
    return json.dumps(message).encode("utf-8") + b"\n"


if __name__ == "__main__":
    served = {name: Path(path) for name, path in json.loads(sys.argv[2]).items()}
    _serve(socket.socket(fileno=int(sys.argv[1])), **served)
