"""The documentation is tested, so that it cannot drift from the code.

* Every ```python block of ``docs/**/*.md`` and ``README.md`` runs: the blocks of one
  page run in order in one namespace, in a fresh temporary working folder (with the
  spectrogram cache there too). Two comment conventions make a block check its output:

  - a statement followed by ``# SomeError: message`` must raise ``SomeError`` (or a
    subclass) with that message (``...`` matches anything);
  - a statement followed by ``# -> text`` (at the end of its last line, or on the next
    line, continued by lines that start with ``#   ``) must print ``text`` (``...``
    matches anything; runs of spaces count as one).

* Every ``keras-soundgan ...`` command in a ```bash / ```console block is parsed by the
  real click app (commands, options, their number of values, types and ranges); the
  values of ``--preset`` and ``--set SECTION.FIELD=VALUE`` are checked against the
  config. ``python benchmarks/...``, ``python examples/...`` and ``python scripts/...``
  commands must name a script that exists and options it defines.
* A bash block preceded by ``<!-- test: run -->`` is also run, in document order with
  the page's python blocks: ``keras-soundgan`` commands in this process through click's
  ``CliRunner`` (exit code 0 required), other commands with ``bash``.
* ``mkdocs build --strict`` builds the site (API reference from the docstrings, CLI
  reference from the click app) with no warning, and the pictures stay small.

Pages that train models are marked ``slow``; ``pytest -m "not slow"`` skips them.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import io
import os
import re
import shlex
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]

# Pages whose snippets train models (tens of seconds each on two CPU cores).
SLOW_PAGES = {
    "README.md",
    "docs/getting-started.md",
    "docs/tutorial/training.md",
    "docs/tutorial/generation.md",
    "docs/howto/own-data.md",
    "docs/howto/resume.md",
    "docs/howto/evaluate.md",
    "docs/howto/conditional.md",
    "docs/export.md",
}

RUN_MARKER = "<!-- test: run -->"
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
SHELL_LANGS = {"bash", "sh", "shell", "console"}
EXPECTED_ERROR = re.compile(r"^#\s*(?P<error>[A-Z]\w*(?:Error|Exception|Exit|Interrupt))"
                            r":\s*(?P<message>.*)$")
EXPECTED_OUTPUT = re.compile(r"#\s*->\s?(?P<text>.*)$")


@dataclasses.dataclass
class Block:
    page: Path
    lang: str
    code: str
    line: int  # 1-based line of the block's first code line in the page
    run: bool  # a shell block marked to run

    @property
    def where(self) -> str:
        return f"{_rel(self.page)}:{self.line}"


def _rel(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        indent = m.group("indent")
        body = "\n".join(line[len(indent):] if line.startswith(indent) else line.lstrip()
                         for line in m.group("body").splitlines())
        before = text[:m.start()].rstrip().splitlines()
        run = bool(before) and before[-1].strip() == RUN_MARKER
        line = text.count("\n", 0, m.start("body")) + 1
        found.append(Block(page, m.group("lang").lower(), body, line, run))
    return found


def _page_id(page: Path) -> str:
    return _rel(page)


def _page_params(predicate):
    params = []
    for page in PAGES:
        if not page.is_file() or not predicate(blocks(page)):
            continue
        marks = [pytest.mark.slow] if _rel(page) in SLOW_PAGES else []
        params.append(pytest.param(page, id=_page_id(page), marks=marks))
    return params


# -- python blocks -------------------------------------------------------------------------


def _normalise(text: str) -> str:
    """Leading, trailing and repeated spaces do not count."""
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines())


def _matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in _normalise(expected).split("..."))
    return re.fullmatch(pattern, _normalise(actual), re.DOTALL) is not None


def _comments(code: str) -> dict[int, str]:
    """Line number (1-based) -> the comment on that line."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string
    return found


def _expectation(lines: list[str], comments: dict[int, str], node: ast.stmt):
    """The ``# Error: ...`` or ``# -> ...`` comment that follows ``node``, if any."""
    end = node.end_lineno
    inline = comments.get(end)
    if inline and not lines[end - 1].lstrip().startswith("#"):
        m = EXPECTED_OUTPUT.match(inline)
        if m:
            return "output", m.group("text")
    if end < len(lines) and lines[end].lstrip().startswith("#"):
        following = lines[end].strip()
        m = EXPECTED_ERROR.match(following)
        if m:
            return "error", (m.group("error"), m.group("message"))
        m = EXPECTED_OUTPUT.match(following)
        if m:
            text = [m.group("text")]
            for extra in lines[end + 1:]:  # further "#   ..." lines continue the output
                extra = extra.strip()
                if not extra.startswith("#   "):
                    break
                text.append(extra[1:])
            return "output", "\n".join(text)
    return None


def run_python(block: Block, namespace: dict) -> None:
    lines = block.code.splitlines()
    comments = _comments(block.code)
    tree = ast.parse(block.code, filename=str(block.page))
    for node in tree.body:
        expectation = _expectation(lines, comments, node)
        where = f"{_rel(block.page)}:{block.line + node.lineno - 1}"
        module = ast.Module(body=[node], type_ignores=[])
        ast.increment_lineno(module, block.line - 1)  # tracebacks name the page's lines
        code = compile(module, str(block.page), "exec")
        if expectation is None:
            exec(code, namespace)
        elif expectation[0] == "error":
            name, message = expectation[1]
            with pytest.raises(Exception) as info:
                exec(code, namespace)
            names = [c.__name__ for c in type(info.value).__mro__]
            assert name in names, f"{where}: expected {name}, got {info.value!r}"
            assert _matches(message, str(info.value)), (
                f"{where}: the message of {name} changed:\n  docs: {message}\n"
                f"  code: {info.value}")
        else:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(code, namespace)
            assert _matches(expectation[1], buffer.getvalue()), (
                f"{where}: the output changed:\n  docs: {expectation[1]}\n"
                f"  code: {buffer.getvalue().strip()}")


# -- shell blocks -------------------------------------------------------------------------


def shell_commands(block: Block) -> list[list[str]]:
    """The simple commands of a shell block (split at ``&&``, ``||``, ``;`` and ``|``),
    without leading ``VAR=value`` assignments."""
    text = block.code.replace("\\\n", " ")
    if block.lang == "console":
        text = "\n".join(line[2:] for line in text.splitlines() if line.startswith("$ "))
    commands = []
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        for token in lexer:
            if token and set(token) <= set(";&|"):
                commands.append(current)
                current = []
            else:
                current.append(token)
        commands.append(current)
    result = []
    for command in commands:
        while command and re.fullmatch(r"[A-Za-z_]\w*=.*", command[0]):
            command = command[1:]
        if command:
            result.append(command)
    return result


@contextlib.contextmanager
def _paths_need_not_exist(command):
    """Lets click parse ``DATA_DIR`` and the like without the folders existing."""
    import click

    changed = []
    for param in command.params:
        if isinstance(param.type, click.Path) and param.type.exists:
            param.type.exists = False
            changed.append(param)
    try:
        yield
    finally:
        for param in changed:
            param.type.exists = True


def check_cli_command(args: list[str], where: str) -> None:
    import click

    from keras_soundgan.cli import main
    from keras_soundgan.config import SoundGANConfig, list_presets, parse_override

    # The group's own options come before the command: flags (--debug, --version,
    # --help) and options with a value (--threads 1).
    takes_value = {name for param in main.params if isinstance(param, click.Option)
                   and not param.is_flag for name in param.opts}
    split = 0
    while split < len(args) and args[split].startswith("-"):
        split += 2 if args[split] in takes_value else 1
    try:
        root = main.make_context("keras-soundgan", list(args[:split + 1]))
        if split == len(args):
            return  # `keras-soundgan --help` and the like
        command = main.get_command(root, args[split])
        if command is None:
            pytest.fail(f"{where}: keras-soundgan has no command {args[split]!r}")
        with _paths_need_not_exist(command):
            ctx = command.make_context(args[split], list(args[split + 1:]), parent=root)
    except click.exceptions.Exit:
        return  # --help / --version
    except click.ClickException as e:
        pytest.fail(f"{where}: `keras-soundgan {shlex.join(args)}` is refused by the CLI: "
                    f"{e.format_message()}")
    params = ctx.params
    preset = params.get("preset") or "tiny"
    assert preset in list_presets(), f"{where}: unknown preset {preset!r}"
    overrides = params.get("overrides") or ()
    if overrides:
        try:
            SoundGANConfig.from_preset(preset).with_overrides(
                dict(parse_override(text) for text in overrides))
        except ValueError as e:
            pytest.fail(f"{where}: `keras-soundgan {shlex.join(args)}`: {e}")


def check_python_script(command: list[str], where: str) -> None:
    script = next((a for a in command[1:] if a.endswith(".py")), None)
    if script is None or not (script.startswith("benchmarks/") or
                              script.startswith("examples/") or
                              script.startswith("scripts/")):
        return
    path = ROOT / script
    assert path.is_file(), f"{where}: {script} does not exist"
    source = path.read_text(encoding="utf-8")
    for arg in command[command.index(script) + 1:]:
        if arg.startswith("--"):
            option = arg.split("=", 1)[0]
            assert f'"{option}"' in source, f"{where}: {script} has no option {option}"


def check_shell_block(block: Block) -> int:
    checked = 0
    for command in shell_commands(block):
        if command[0] == "keras-soundgan":
            check_cli_command(command[1:], block.where)
            checked += 1
        elif command[0] in ("python", "python3"):
            check_python_script(command, block.where)
            checked += 1
    return checked


def run_shell_block(block: Block, cwd: Path) -> None:
    from click.testing import CliRunner

    from keras_soundgan.cli import main

    for command in shell_commands(block):
        if command[0] == "keras-soundgan":
            result = CliRunner().invoke(main, command[1:], catch_exceptions=False)
            assert result.exit_code == 0, (
                f"{block.where}: `{shlex.join(command)}` exited with {result.exit_code}:\n"
                f"{result.output}")
        else:
            done = subprocess.run(shlex.join(command), shell=True, cwd=cwd, text=True,
                                  capture_output=True, executable="/bin/bash")
            assert done.returncode == 0, (
                f"{block.where}: `{shlex.join(command)}` failed:\n{done.stdout}{done.stderr}")


# -- the tests ----------------------------------------------------------------------------


def _runnable(found):
    return any(b.lang == "python" or (b.run and b.lang in SHELL_LANGS) for b in found)


@pytest.mark.parametrize("page", _page_params(_runnable))
def test_page_snippets_run(page, tmp_path, monkeypatch):
    """The page's python blocks and its runnable shell blocks, in order, in one
    namespace and a fresh working folder."""
    import keras

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KERAS_SOUNDGAN_CACHE", str(tmp_path / ".cache"))
    keras.utils.clear_session()
    namespace = {"__name__": "__main__"}
    for block in blocks(page):
        if block.lang == "python":
            run_python(block, namespace)
        elif block.run and block.lang in SHELL_LANGS:
            run_shell_block(block, tmp_path)


@pytest.mark.parametrize(
    "page", _page_params(lambda found: any(b.lang in SHELL_LANGS for b in found)))
def test_page_commands_exist(page):
    """Every keras-soundgan command, option and config field in the page's shell blocks
    exists, and benchmark/example scripts and their options exist."""
    for block in blocks(page):
        if block.lang in SHELL_LANGS:
            check_shell_block(block)


def test_every_code_block_is_checked():
    """No code block escapes the tests by its language: python and shell blocks are
    checked; other blocks must be data or text (json, text, or no language), or app code
    for phones (kotlin, swift)."""
    # Phone-app code (the export page's Kotlin and Swift clients) cannot run here.
    allowed = {"python", "json", "text", "", "yaml", "csv", "kotlin", "swift"} | SHELL_LANGS
    for page in PAGES:
        if page.is_file():
            for block in blocks(page):
                assert block.lang in allowed, f"{block.where}: unchecked ```{block.lang} block"
                if block.run:
                    assert block.lang in SHELL_LANGS, f"{block.where}: {RUN_MARKER} on a non-shell block"


def test_harness_conventions():
    """The comment conventions of the python blocks do what the module docstring says."""
    page = ROOT / "docs" / "index.md"
    good = Block(page, "python", "print(1 + 1)  # -> 2\nint('x')\n# ValueError: invalid literal ...\n"
                 "print('a b c')\n# -> a ... c\n", 10, False)
    run_python(good, {})
    with pytest.raises(AssertionError, match="output changed"):
        run_python(Block(page, "python", "print(3)  # -> 4\n", 1, False), {})
    with pytest.raises(AssertionError, match="output changed"):
        run_python(Block(page, "python", "print('1\\n2')\n# -> 1\n#   3\n", 5, False), {})
    with pytest.raises(AssertionError, match="message of ValueError changed"):
        run_python(Block(page, "python", "int('x')\n# ValueError: something else\n", 5,
                         False), {})
    with pytest.raises(AssertionError, match="expected KeyError"):
        run_python(Block(page, "python", "int('x')\n# KeyError: x\n", 1, False), {})
    with pytest.raises(pytest.fail.Exception, match="refused by the CLI"):
        check_cli_command(["train", "--no-such-option"], "here")
    with pytest.raises(pytest.fail.Exception, match="unknown field"):
        check_cli_command(["train", "--set", "generator.no_such_field=1"], "here")
    check_cli_command(["train", "no_such_folder/", "--epochs", "2", "--set",
                       "data.trim_silence=true"], "here")
    check_cli_command(["--threads", "1", "train", "--epochs", "2"], "here")
    with pytest.raises(pytest.fail.Exception, match="refused by the CLI"):
        check_cli_command(["--threads", "1", "train", "--no-such-option"], "here")
    assert shell_commands(Block(page, "bash", "A=1 keras-soundgan train && ls x # c\n", 1,
                                False)) == [["keras-soundgan", "train"], ["ls", "x"]]


def test_api_reference_lists_the_public_api():
    """The table of docs/reference/api/keras_soundgan.md names exactly
    ``keras_soundgan.__all__`` (the build test checks that each link resolves)."""
    import keras_soundgan

    text = (DOCS / "reference" / "api" / "keras_soundgan.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| \[`(\w+)`\]", text, re.MULTILINE)
    assert sorted(listed) == sorted(keras_soundgan.__all__)


def test_benchmark_tables_come_from_the_benchmarks_readme():
    """Every measured table row of docs/benchmarks.md is a row of benchmarks/README.md,
    where the measurements are reported (figures are copied, never written by hand)."""
    readme = {line.strip() for line in
              (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8").splitlines()}
    rows = [line.strip() for line in
            (DOCS / "benchmarks.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("|") and re.search(r"\d", line)]
    assert rows, "docs/benchmarks.md has no measured table rows"
    for row in rows:
        assert row in readme, f"not in benchmarks/README.md: {row}"


def test_pictures_are_small():
    images = sorted((DOCS / "images").glob("*.png"))
    assert images, "run scripts/make_figures.py to make the pictures"
    for image in images:
        assert image.stat().st_size < 200_000, f"{image.name} is over 200 KB"


def test_audio_players_play_short_wav_files():
    """Every ``<audio src=...>`` of a page names a WAV file beside it that soundfile
    reads (mkdocs copies it but does not check raw HTML), and the sounds stay small."""
    import soundfile as sf

    players = [(page, src) for page in PAGES if page.is_file()
               for src in re.findall(r'<audio[^>]*\ssrc="([^"]+)"',
                                     page.read_text(encoding="utf-8"))]
    assert players, "docs/evidence.md plays real and generated sounds"
    for page, src in players:
        # Raw HTML is not rewritten: src is relative to the page's address, and a page
        # other than index.md is served as a folder of its own (use_directory_urls).
        base = page.parent if page.name in ("index.md", "README.md") else page.with_suffix("")
        path = (base / src).resolve()
        assert path.is_file(), f"{_rel(page)}: <audio src={src!r}> is not a file"
        info = sf.info(str(path))
        assert info.format == "WAV" and info.frames > 0, f"{_rel(page)}: {src}"
        assert path.stat().st_size < 100_000, f"{src} is over 100 KB"


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    """The site builds with no warning: every page is in the nav, every link, anchor and
    picture resolves, the API reference renders from the docstrings and the CLI
    reference from the click app."""
    import importlib.util

    for module in ("mkdocs", "mkdocstrings", "mkdocs_click"):
        if importlib.util.find_spec(module) is None:  # the test extra installs them
            pytest.fail(f"{module} is missing: pip install -e '.[test]'", pytrace=False)
    assert (DOCS / "export.md").is_file(), (
        "docs/export.md is missing: the nav, the tutorial and the API reference link to it")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", TF_CPP_MIN_LOG_LEVEL="3")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site),
         "--config-file", str(ROOT / "mkdocs.yml")],
        cwd=ROOT, env=env, text=True, capture_output=True, timeout=600)
    log = done.stdout + done.stderr
    warnings = [line for line in log.splitlines() if re.match(r"(WARNING|ERROR)\s+-", line)]
    assert done.returncode == 0 and not warnings, log[-5000:]

    from keras_soundgan.cli import main

    cli_page = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"keras-soundgan {name}" in cli_page, f"CLI reference lacks {name}"
    api_page = (site / "reference" / "api" / "keras_soundgan" / "index.html").read_text(
        encoding="utf-8")
    import keras_soundgan

    for name in keras_soundgan.__all__:
        link = re.compile(rf'href="[^"]*#keras_soundgan\.[\w.]*\b{name}"')
        assert link.search(api_page), (
            f"the API reference's package page does not link {name} to its documentation")
