"""The CLI registers each subcommand from its own module and imports only the one chosen."""

from __future__ import annotations

import subprocess
import sys

from ferry.cli.main import SUBCOMMANDS, build_parser


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
