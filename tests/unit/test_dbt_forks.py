"""kritinfo-dbt (pipelines/transform/dbt_forks.py) is dbt, whether a fork server runs or not: the
same output, exit code, environment and working folder; an interrupt reaches dbt; a client that
dies takes its dbt with it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from dbt_common.clients.jinja import get_environment

from pipelines.definitions import defs
from pipelines.publication_inputs import dbt_project_digest
from pipelines.settings import DBT_PROJECT_DIR, dbt_executable
from pipelines.transform.dbt_forks import SOCKET_VARIABLE, CompiledTemplates, client_executable, serving

# A query DuckDB works on for minutes: dbt is busy with it when the test signals.
ENDLESS_QUERY = "select sum(a.range * b.range) as s from range(300000) as a, range(300000) as b"


def definitions_dbt_resource():
    return defs().resources["dbt"]


def run(executable: str, *arguments: str, **options) -> tuple[int, str, str]:
    done = subprocess.run([executable, *arguments], capture_output=True, text=True, timeout=120, **options)
    return done.returncode, done.stdout, done.stderr


def dbt_children(server: subprocess.Popen) -> list[psutil.Process]:
    """The server's forks (its other child, multiprocessing's resource tracker, runs another command)."""
    served = psutil.Process(server.pid)
    return [child for child in served.children() if child.cmdline() == served.cmdline()]


def test_the_client_without_a_server_is_dbt(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(SOCKET_VARIABLE, raising=False)
    for arguments in (["--version"], ["no-such-command"]):
        assert run(client_executable(), *arguments) == run(dbt_executable(), *arguments)


def test_a_fork_answers_as_dbt_would():
    expected = {arguments: run(dbt_executable(), *arguments) for arguments in (("--version",), ("no-such-command",))}
    with serving() as server:
        for arguments, direct in expected.items():
            assert run(client_executable(), *arguments) == direct
        assert server.poll() is None
    assert server.returncode == 0  # ended when the block did


def test_a_fork_runs_in_the_clients_folder_with_its_environment(tmp_path: Path):
    # dbt reads the profile's folder from the environment, and resolves --project-dir from the
    # working folder: both must be the client's.
    environment = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), "KRITINFO_HOME": str(tmp_path)}
    arguments = ["debug", "--project-dir", DBT_PROJECT_DIR.name, "--log-level-file", "none", "--no-use-colors"]
    with serving() as server:
        environment[SOCKET_VARIABLE] = os.environ[SOCKET_VARIABLE]
        code, stdout, _ = run(client_executable(), *arguments, env=environment, cwd=DBT_PROJECT_DIR.parent)
        assert not dbt_children(server)  # the fork has ended with its client
    assert code == 0, stdout[-2000:]
    assert "profiles.yml file [OK found and valid]" in stdout
    assert str(tmp_path / "warehouse.duckdb") in stdout


@pytest.mark.parametrize("ending", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_or_killed_client_stops_its_dbt(tmp_path: Path, ending: signal.Signals):
    environment = {**os.environ, "KRITINFO_HOME": str(tmp_path)}
    arguments = ["show", "--inline", ENDLESS_QUERY, "--project-dir", str(DBT_PROJECT_DIR)]
    arguments += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path), "--log-level-file", "none"]
    with serving() as server:
        environment[SOCKET_VARIABLE] = os.environ[SOCKET_VARIABLE]
        client = subprocess.Popen([client_executable(), *arguments], env=environment, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not (children := dbt_children(server)) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(children) == 1  # the client's dbt is the server's fork
            time.sleep(3)  # dbt is at its query
            assert client.poll() is None
            client.send_signal(ending)
            client.wait(timeout=60)
            _, alive = psutil.wait_procs(children, timeout=60)
            assert not alive
        finally:
            client.kill()  # a failed assertion leaves no query running
    assert client.returncode == (2 if ending == signal.SIGINT else -signal.SIGKILL)


def test_a_killed_run_leaves_no_server_and_no_socket_folder():
    # The run's process is killed (no `finally` of serving() runs): its server notices its
    # lifeline closed, removes the socket's folder and ends.
    starter = (
        "import os, sys, time\n"
        "from pipelines.transform.dbt_forks import SOCKET_VARIABLE, serving\n"
        "with serving() as server:\n"
        "    print(server.pid, os.environ[SOCKET_VARIABLE], flush=True)\n"
        "    time.sleep(600)\n"
    )
    run_process = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    server_pid, address = run_process.stdout.readline().split()
    assert Path(address).exists()
    run_process.kill()
    run_process.wait(timeout=60)
    psutil.wait_procs([psutil.Process(int(server_pid))], timeout=60)
    assert not psutil.pid_exists(int(server_pid)) or psutil.Process(int(server_pid)).status() == psutil.STATUS_ZOMBIE
    assert not Path(address).parent.exists()


def test_a_fork_starts_from_the_servers_parse_only_where_dbt_would_parse_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # dbt writes partial_parse.msgpack into its target folder when it has parsed the project.
    monkeypatch.setenv("KRITINFO_HOME", str(tmp_path))  # the server parses in the run's home
    (tmp_path / "other").mkdir()
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    environment = dict(os.environ)
    show = ["show", "--inline", "select 41 + 1 as answer", "--log-level-file", "none"]

    def answered_and_parsed(executable: str, target: str, *options: str, **where) -> tuple[bool, bool]:
        code, stdout, _ = run(executable, *show, "--target-path", str(tmp_path / target), *options, **where)
        return code == 0 and "|     42 |" in stdout, (tmp_path / target / "partial_parse.msgpack").exists()

    assert answered_and_parsed(dbt_executable(), "direct", env=environment, cwd=DBT_PROJECT_DIR) == (True, True)
    project_digest = dbt_project_digest()
    with serving(DBT_PROJECT_DIR, tmp_path / "partial_parse.msgpack"):
        environment[SOCKET_VARIABLE] = os.environ[SOCKET_VARIABLE]
        client = client_executable()
        served = answered_and_parsed(client, "served", env=environment, cwd=DBT_PROJECT_DIR)
        # dagster-dbt hands dbt the profile's folder of the run's resource.
        as_dagster_runs_it = {**environment, "DBT_PROFILES_DIR": str(definitions_dbt_resource().profiles_dir)}
        from_dagster = answered_and_parsed(client, "from_dagster", env=as_dagster_runs_it, cwd=DBT_PROJECT_DIR)
        (tmp_path / "profiles").mkdir()
        shutil.copyfile(DBT_PROJECT_DIR / "profiles.yml", tmp_path / "profiles" / "profiles.yml")
        other_profile = {**environment, "DBT_PROFILES_DIR": str(tmp_path / "profiles")}
        profile_elsewhere = answered_and_parsed(client, "profile_elsewhere", env=other_profile, cwd=DBT_PROJECT_DIR)
        with_vars = answered_and_parsed(client, "vars", "--vars", "{}", env=environment, cwd=DBT_PROJECT_DIR)
        project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
        elsewhere = answered_and_parsed(client, "elsewhere", *project, env=environment, cwd=tmp_path)
        other_home = answered_and_parsed(
            client, "other_home", env={**environment, "KRITINFO_HOME": str(tmp_path / "other")}, cwd=DBT_PROJECT_DIR
        )
    assert served == from_dagster == (True, False)
    assert (with_vars, elsewhere, other_home, profile_elsewhere) == ((True, True),) * 4
    assert (tmp_path / "partial_parse.msgpack").exists()  # the server's parse, kept for the next run
    assert dbt_project_digest() == project_digest  # nothing written into the project (a later build would be full)


@pytest.mark.parametrize("level", ["info", "debug"])
def test_a_fork_logs_the_same_events_as_dbt(tmp_path: Path, level: str):
    # A fork drops an event below its loggers' levels before formatting it (_format_only_logged_events):
    # stdout (JSON, as dagster-dbt reads it) and dbt.log still get every event dbt would write.
    environment = {**os.environ, "KRITINFO_HOME": str(tmp_path), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    arguments = ["--log-format", "json", "--log-level", level, "--log-level-file", "warn", "--no-partial-parse"]
    arguments += ["show", "--inline", "select 41 + 1 as answer", "--project-dir", str(DBT_PROJECT_DIR)]

    def event_names(lines: str) -> list[str]:
        """dbt's events, less what it caught on stderr (import-time warnings: a fork imports nothing)."""
        names = (json.loads(line)["info"]["name"] for line in lines.splitlines() if line.startswith("{"))
        return [name for name in names if name != "SystemStdErr"]

    def logged(executable: str, folder: str) -> tuple[list[str], list[str]]:
        target = tmp_path / folder
        where = ["--target-path", str(target), "--log-path", str(target)]
        code, stdout, _ = run(executable, *arguments, *where, env=environment)
        assert code == 0, stdout[-2000:]
        return event_names(stdout), event_names((target / "dbt.log").read_text(encoding="utf-8"))

    direct = logged(dbt_executable(), "direct")
    with serving():
        environment[SOCKET_VARIABLE] = os.environ[SOCKET_VARIABLE]
        served_events, served_file = logged(client_executable(), "served")
    assert ("SQLQuery" in served_events) == (level == "debug")
    assert served_file == ["ShowNode"]  # a print event: dbt writes it out as an error
    assert (served_events, served_file) == direct


def test_the_forks_of_a_home_compile_each_template_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # CompiledTemplates: a fork keeps the code of the Jinja templates it compiled; the forks of a
    # later server run that code, and compile none of those templates again.
    monkeypatch.setenv("KRITINFO_HOME", str(tmp_path))
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    kept = tmp_path / "compiled_templates.marshal"
    model = DBT_PROJECT_DIR / "models" / "intermediate" / "int_entry_states.sql"  # through dbt's and our macros

    def compiled_sql(executable: str, target: str) -> str:
        arguments = ["compile", "--select", model.stem, "--log-level-file", "none"]
        arguments += ["--target-path", str(tmp_path / target)]
        code, stdout, _ = run(executable, *arguments, env=dict(os.environ), cwd=DBT_PROJECT_DIR)
        assert code == 0, stdout[-2000:]
        (written,) = (tmp_path / target / "compiled").rglob(model.name)
        return written.read_text(encoding="utf-8")

    def served_sql(target: str) -> str:
        with serving(DBT_PROJECT_DIR, tmp_path / "partial_parse.msgpack", kept):
            return compiled_sql(client_executable(), target)

    assert served_sql("first") == compiled_sql(dbt_executable(), "direct")
    # The model's own template, replaced in the file by other code, shows which code a fork runs.
    templates = CompiledTemplates(kept)
    key = CompiledTemplates.key(get_environment(), model.read_text(encoding="utf-8").strip())  # as dbt reads it
    assert key in templates.code and len(templates.code) > 10
    templates.write({**templates.code, key: get_environment().compile("select 'kept' as code")})
    written = (kept.stat().st_mtime_ns, kept.read_bytes())
    assert served_sql("second") == "select 'kept' as code"
    assert (kept.stat().st_mtime_ns, kept.read_bytes()) == written  # nothing compiled anew


def test_a_fork_parses_a_project_changed_since_the_servers_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # `kritinfo run` writes a generated macro while its server parses: a fork must not start from
    # a parse that missed a change (the union `metrics` then lacked a new metric's ref).
    monkeypatch.setenv("KRITINFO_HOME", str(tmp_path))
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    kept_parse = tmp_path / "partial_parse.msgpack"

    def compiled_answer(target: str) -> str | None:
        arguments = ["compile", "--select", "answer", "--log-level-file", "none"]
        arguments += ["--target-path", str(tmp_path / target)]
        code, stdout, _ = run(client_executable(), *arguments, env=dict(os.environ), cwd=project)
        assert code == 0, stdout[-2000:]
        return next((path.read_text(encoding="utf-8") for path in (tmp_path / target).rglob("answer.sql")), None)

    with serving(project, kept_parse):
        deadline = time.monotonic() + 120
        while not kept_parse.exists():  # the server has parsed the project
            assert time.monotonic() < deadline, "the server did not parse the project"
            time.sleep(0.1)
        assert compiled_answer("before") is None  # no such model yet: the served parse is used
        (project / "models" / "answer.sql").write_text("select 42 as answer\n", encoding="utf-8")
        assert compiled_answer("after") == "select 42 as answer"
