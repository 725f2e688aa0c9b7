"""The examples of the documentation, and how a reader would run them against the live demo.

Every fenced block in ``sh``/``bash``, ``python`` or ``graphql`` of README.md and docs/*.md is an
example, run in the order of its file. An HTML comment on the line before a block changes that:

* ``<!-- not run: <reason> -->``: the block is not run (installation steps, production-only
  settings, something that needs a day of failed deliveries, ...); the reason is required.
* ``<!-- browser: <username> -->``: the block needs what a person does in a browser first: open the
  address the previous block printed, sign in as that demo user, and copy the ``code`` from where
  the browser is sent. The runner does exactly that and puts the code where the block says
  ``PASTE_THE_CODE``.

How a block runs, as a reader at a terminal would run it:

* in the folder ``serve --demo`` was started in (``.venv``, ``docs/`` and ``.wijkwerk/`` with the
  demo credentials), with a PATH without the virtualenv (the examples name ``.venv/bin/...``), none of
  the test run's settings, and the demo's address: the docs use the default ``http://127.0.0.1:8000``
  (and ``127.0.0.1:8766`` for a webhook receiver), which the runner replaces by the live demo's ports;
* shell blocks in ``bash`` with ``set -euo pipefail`` (a failing command or an unset variable fails
  the example), one after the other, each seeing the variables the earlier blocks of its file set;
  ``curl`` fails on an HTTP status of 400 or more (``--fail-with-body``: a reader would see an error
  answer, the test sees exit code 22) and says so on stderr;
* Python blocks with the project's Python (``.venv/bin/python``), with those variables in the
  environment; GraphQL blocks are POSTed to ``/graphql`` and must answer without errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.demo.live import browser_sign_in

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell"}
RUN = SHELL | {"python", "graphql"}
DEMO_ADDRESS = "127.0.0.1:8000"
RECEIVER_ADDRESS = "127.0.0.1:8766"
PLACEHOLDER = "PASTE_THE_CODE"
BLOCK_TIMEOUT = 600.0  # a block may start the `wijkwerk` command a few times on a busy machine

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<language>[\w+-]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>not run|browser)\s*:?(?P<text>.*?)-->\s*$")


@dataclass(frozen=True)
class Example:
    document: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    not_run: str | None = None  # the reason, when marked
    browser_user: str | None = None

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.language in RUN and self.not_run is None


class MarkupError(ValueError):
    """A marker without its reason or user, or one that no block follows."""


def examples(document: Path, text: str | None = None) -> list[Example]:
    """The fenced blocks of a Markdown document with the marker before each (see the module doc)."""
    lines = (document.read_text() if text is None else text).splitlines()
    found: list[Example] = []
    marker: tuple[str, str, int] | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence is None:
            matched = _MARKER.match(line)
            if matched is not None:
                marker = (matched["kind"], matched["text"].strip(), index + 1)
            elif line.strip() and marker is not None:
                raise MarkupError(f"{document.name}:{marker[2]}: no code block follows the marker")
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        indent = len(fence["indent"])
        code = "\n".join(body[indent:] for body in lines[index + 1 : end]) + "\n"
        found.append(_example(document, index + 1, fence["language"].lower(), code, marker))
        marker = None
        index = end + 1
    if marker is not None:
        raise MarkupError(f"{document.name}:{marker[2]}: no code block follows the marker")
    return found


def _example(
    document: Path, line: int, language: str, code: str, marker: tuple[str, str, int] | None
) -> Example:
    if marker is None:
        return Example(document, line, language, code)
    kind, text, marker_line = marker
    if not text:
        what = "a reason" if kind == "not run" else "the user who signs in"
        raise MarkupError(f"{document.name}:{marker_line}: the marker needs {what}")
    if kind == "not run":
        return Example(document, line, language, code, not_run=text)
    if PLACEHOLDER not in code:
        raise MarkupError(f"{document.name}:{marker_line}: a browser step needs {PLACEHOLDER} in its block")
    return Example(document, line, language, code, browser_user=text)


# -- running them ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    example: Example
    exit_code: int
    stdout: str
    stderr: str

    def report(self) -> str:
        return (
            f"{self.example.where} ({self.example.language}) failed with exit code {self.exit_code}"
            " (22 from curl: an HTTP status of 400 or more)\n"
            f"--- the example\n{self.example.code}--- stdout\n{_ends(self.stdout)}\n"
            f"--- stderr\n{_ends(self.stderr)}"
        )


def _ends(text: str, size: int = 1500) -> str:
    """The beginning and the end of a long output (an error is often at one end, its cause at the other)."""
    return text if len(text) <= 2 * size else f"{text[:size]}\n[...]\n{text[-size:]}"


@dataclass
class Reader:
    """A reader at a terminal in the demo's folder, running one document's examples in order."""

    workspace: Path
    base_url: str
    receiver_port: int
    tools: Path  # a folder of the runner's own: the curl that fails on errors, state between blocks
    variables: dict[str, str] = field(default_factory=dict)
    last_output: str = ""

    @classmethod
    def at(cls, workspace: Path, base_url: str, receiver_port: int) -> Reader:
        real_curl = shutil.which("curl")
        assert real_curl, "the examples need curl: apt-get install curl (or your system's package)"
        tools = Path(tempfile.mkdtemp(prefix="reader-", dir=workspace.parent))
        shim = tools / "curl"
        shim.write_text(f'#!/bin/sh\nexec {real_curl} --fail-with-body --show-error "$@"\n')
        shim.chmod(0o755)
        venv_bin = str(workspace / ".venv" / "bin")
        system_path = [
            p
            for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if p and Path(p).resolve() != (workspace / ".venv" / "bin").resolve() and p != venv_bin
        ]
        environment = {
            "PATH": os.pathsep.join([str(tools), *system_path]),
            "HOME": os.environ.get("HOME", str(workspace)),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tools),
        }
        return cls(workspace, base_url, receiver_port, tools, environment)

    def localised(self, code: str) -> str:
        port = self.base_url.rsplit(":", 1)[1]
        code = code.replace(DEMO_ADDRESS, f"127.0.0.1:{port}").replace("localhost:8000", f"localhost:{port}")
        return code.replace(RECEIVER_ADDRESS, f"127.0.0.1:{self.receiver_port}")

    async def run(self, example: Example, credentials: dict[str, object]) -> Outcome:
        code = self.localised(example.code)
        if example.browser_user is not None:
            code = code.replace(PLACEHOLDER, await self._browser_step(example.browser_user, credentials))
        if example.language in SHELL:
            return await self._shell(example, code)
        if example.language == "python":
            return await self._python(example, code)
        return await self._graphql(example, code)

    async def _browser_step(self, user: str, credentials: dict[str, object]) -> str:
        addresses = [w for w in self.last_output.split() if w.startswith("http")]
        assert addresses, f"a browser step needs the address the block before printed:\n{self.last_output}"
        users = credentials["users"]
        assert isinstance(users, dict)
        return await browser_sign_in(addresses[-1], users[user]["username"], users[user]["password"])

    async def _shell(self, example: Example, code: str) -> Outcome:
        state = self.tools / "variables"
        script = self.tools / "example.sh"
        # allexport: what the block assigns reaches the next block (as a reader's shell keeps it).
        # ``a && b`` failing in b does not stop a ``set -e`` script: the block's own status is checked too.
        script.write_text(
            f"set -euo pipefail\nset -a\n{code}\nexample_status=$?\n"
            f'[ "$example_status" -eq 0 ] || exit "$example_status"\nenv -0 > {state}\n'
        )
        outcome = await self._process(example, ["bash", str(script)])
        if outcome.exit_code == 0:
            pairs = (item.partition("=") for item in state.read_text().split("\0") if item)
            self.variables = {name: value for name, _, value in pairs if name not in {"_", "SHLVL", "OLDPWD"}}
            self.last_output = outcome.stdout
        return outcome

    async def _python(self, example: Example, code: str) -> Outcome:
        script = self.tools / "example.py"
        script.write_text(code)
        return await self._process(example, [str(self.workspace / ".venv" / "bin" / "python"), str(script)])

    async def _process(self, example: Example, command: list[str]) -> Outcome:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=self.workspace,
            env=self.variables,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: whatever it started ends with it
        )
        output = asyncio.ensure_future(process.communicate())
        done, _ = await asyncio.wait({output}, timeout=BLOCK_TIMEOUT)
        # The block is over (or out of time): end what it left running, which also closes the pipes.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = await output
        note = b"" if done else f"\n(no end within {BLOCK_TIMEOUT}s: stopped)".encode()
        code = process.returncode if done else -1
        return Outcome(example, code or 0, stdout.decode(errors="replace"), (stderr + note).decode())

    async def _graphql(self, example: Example, code: str) -> Outcome:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60.0) as http:
            answer = await http.post("/graphql", json={"query": code})
        failed = answer.status_code != 200 or "errors" in answer.json()
        return Outcome(example, 1 if failed else 0, answer.text, "")
