"""The ``wikitrace-otel collector`` command line: parsing, refusals, and its help."""

from __future__ import annotations

from pathlib import Path

import pytest

from wikitrace_otel.cli import build_parser, main
from wikitrace_otel.collector.config import parse_size


def test_help_lists_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["collector", "--help"])
    out = capsys.readouterr().out
    for flag in ("--grpc-port", "--http-port", "--store", "--api-key", "--tenant", "--forward", "--insecure"):
        assert flag in out


def test_flags_become_the_configuration(tmp_path: Path) -> None:
    from wikitrace_otel._cli.collector import _config

    keys = tmp_path / "keys"
    keys.write_text("globex=g-key\n", encoding="utf-8")
    args = build_parser().parse_args(
        [
            "collector",
            "--store",
            str(tmp_path),
            "--api-key",
            "k",
            "--tenant",
            "acme=a-key",
            "--api-keys-file",
            str(keys),
            "--grpc-port",
            "off",
            "--max-body-size",
            "1MiB",
            "--forward",
            "http://up:4318",
            "--forward-header",
            "x-honeycomb-team=abc",
        ]
    )
    config = _config(args)
    assert config.keys == [("", "k"), ("acme", "a-key"), ("globex", "g-key")]
    assert (config.grpc_port, config.http_port, config.max_body_bytes) == (None, 4318, 1024 * 1024)
    assert config.forward_headers == {"x-honeycomb-team": "abc"}
    assert config.store == tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--host", "0.0.0.0"], "without an API key"),
        (["--tenant", "no-equals-sign"], "TENANT=KEY"),
        (["--forward", "ftp://x"], "grpcs://"),
        (["--max-body-size", "lots"], "invalid size"),
    ],
)
def test_bad_settings_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["collector", "--store", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_port_in_use_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["collector", "--store", str(tmp_path), "--grpc-port", "off", "--http-port", str(port)]) == 2
    assert "Address already in use" in capsys.readouterr().err


def test_sizes_take_binary_units() -> None:
    assert [parse_size(text) for text in ("10", "2K", "16MiB", "1g")] == [10, 2048, 16 * 1024**2, 1024**3]
