"""The CLI registers each subcommand from its own module and imports only the one chosen."""

from __future__ import annotations

import subprocess
import sys

from ferry.cli.main import SUBCOMMANDS, SUMMARIES, build_parser


def test_every_listed_subcommand_is_registered_by_its_module() -> None:
    for command, module in SUBCOMMANDS.items():
        parser = build_parser(command)
        choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
        assert command in choices, (command, module)
    whole = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(whole) == set(SUBCOMMANDS)


def test_run_starts_without_the_kubernetes_client() -> None:
    probe = (
        "import sys\n"
        "from ferry.cli.main import main\n"
        "try:\n"
        "    main([sys.argv[1], '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('kubernetes' in sys.modules)\n"
    )
    for command, loads_kubernetes in (("run", False), ("status", True)):
        out = subprocess.run(
            [sys.executable, "-c", probe, command], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip().splitlines()[-1] == str(loads_kubernetes), command


def test_the_overview_lists_each_subcommand_with_its_modules_summary() -> None:
    registered = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    helps = {action.dest: action.help for action in registered._choices_actions}  # type: ignore[union-attr]
    assert helps == SUMMARIES


def test_help_imports_no_subcommand_module() -> None:
    probe = (
        "import sys\n"
        "from ferry.cli.main import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith(('ferry.cli.', 'sqlalchemy', 'kubernetes'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "run a Migration from a YAML bundle" in out
    assert out.strip().splitlines()[-1] == "['ferry.cli.main']"


def test_a_usage_error_names_the_choices() -> None:
    probe = "from ferry.cli.main import main\nmain(['nonsense'])\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "invalid choice: 'nonsense'" in done.stderr and "'worker'" in done.stderr


def test_version_is_the_packages() -> None:
    from ferry import __version__

    probe = "from ferry.cli.main import main\nmain(['--version'])\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"ferry {__version__}"
